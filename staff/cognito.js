// Amazon Cognito's sign-in, called from the browser through its JSON API as the AWS SDK
// calls it (the SDK itself would be most of the page's budget). These calls need no AWS
// credentials, only the app client's id, which is public. Where the password goes comes
// from the deployment's /config.json (`cognito_endpoint`, `user_pool_client_id`), never
// from the URL: no password or token is sent to an address the deployment did not name.
// Locally the same calls go to moto's server.
import { deployConfig, webAddress } from "../common/page.js";

// A refusal (`code`: Cognito's exception name, e.g. NotAuthorizedException; "Network" when
// Cognito could not be reached) with Cognito's own message.
export class CognitoError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

let pool; // { endpoint, clientId } or null (no pool configured); undefined until read

// The deployment's pool, or null: then the page offers the developer-token sign-in only.
export async function configuredPool() {
  if (pool === undefined) {
    const config = await deployConfig();
    const endpoint = webAddress(config.cognito_endpoint);
    const clientId = typeof config.user_pool_client_id === "string" ? config.user_pool_client_id : "";
    pool = endpoint && clientId ? { endpoint: endpoint.href, clientId } : null;
  }
  return pool;
}

async function call(action, body) {
  const { endpoint, clientId } = await configuredPool();
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify({ ClientId: clientId, ...body }),
    });
  } catch {
    throw new CognitoError("Network", "");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    // "__type" is the exception's name, sometimes with its namespace: "...#NotAuthorizedException".
    const code = String(answer.__type ?? "").split("#").pop() || `HTTP ${response.status}`;
    throw new CognitoError(code, answer.message ?? answer.Message ?? "");
  }
  return answer;
}

// The tokens of an answer: `id` (the API's bearer), `refresh`, and when the ID token
// expires, in this browser's clock (its own time plus Cognito's ExpiresIn, so a skewed
// clock does not matter).
function tokens(result, refresh) {
  return {
    id: result.IdToken,
    refresh: result.RefreshToken ?? refresh,
    expiresAt: Date.now() + (Number(result.ExpiresIn) || 3600) * 1000,
  };
}

// Why an answer that is not tokens cannot go on: the one challenge the page answers is a
// first sign-in's new password (a pool with MFA would need its own screens).
function outcome(answer, username) {
  if (answer.AuthenticationResult) return { tokens: tokens(answer.AuthenticationResult) };
  if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
    // Cognito's own name for the person (in a pool keyed by e-mail, not the e-mail itself).
    const user = answer.ChallengeParameters?.USER_ID_FOR_SRP || username;
    return { newPassword: { session: answer.Session, username: user } };
  }
  throw new CognitoError("UnsupportedChallenge", answer.ChallengeName);
}

// { tokens } or, on a first sign-in with a temporary password, { newPassword: challenge }.
export async function signIn(email, password) {
  const answer = await call("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return outcome(answer, email);
}

// The first sign-in's new password: { tokens } (or another challenge, refused above).
export async function setNewPassword(challenge, password) {
  const answer = await call("RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: password },
  });
  return outcome(answer, challenge.username);
}

// New ID token from the refresh token (kept unless Cognito rotates it).
export async function refresh(refreshToken) {
  const answer = await call("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  });
  return tokens(answer.AuthenticationResult ?? {}, refreshToken);
}

// Sign-out: the refresh token (and the tokens made from it) can no longer be used.
export function revoke(refreshToken) {
  return call("RevokeToken", { Token: refreshToken });
}

// The strings.js key that says what went wrong, in the words of the step that failed
// ("signin", "new_password" or "renew"), and Cognito's message for the password policy.
export function problemKey(error, step) {
  switch (error.code) {
    case "NotAuthorizedException":
      if (/attempts exceeded/i.test(error.message)) return "signin_too_many";
      return { signin: "signin_wrong", new_password: "signin_step_expired", renew: "session_ended" }[step];
    case "UserNotFoundException":
      return step === "signin" ? "signin_wrong" : "session_ended";
    case "PasswordResetRequiredException":
      return "signin_reset";
    case "TooManyRequestsException":
    case "LimitExceededException":
    case "TooManyFailedAttemptsException":
      return "signin_too_many";
    case "InvalidPasswordException":
      return "password_refused";
    case "Network":
      return "signin_unreachable";
    default:
      return "signin_failed";
  }
}
