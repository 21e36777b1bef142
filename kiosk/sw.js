// Offline start: the kiosk's files are served from this cache, so a tablet that reboots
// without network still opens the kiosk (and its queue). Stale-while-revalidate: a new
// version is fetched in the background and used from the next load on.
const CACHE = "storepulse-kiosk-v3";
// The page's files (its folder and ../common/), listed by whoever serves them (the bucket
// upload, the local pages server: devtools/pages.py), so no list here falls behind the page.
const FILES = "files.json";
// Where the API is (written at deploy), kept to start offline too; absent where the API
// shares the pages' origin, so its absence does not fail the install.
const CONFIG = "../config.json";

async function listedFiles() {
  const response = await fetch(FILES, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${FILES}: HTTP ${response.status}`);
  return (await response.json()).files;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(await listedFiles());
    await cache.add(CONFIG).catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

// A file a new version added (a module app.js now imports) is cached at the first online
// load, before the next start may be offline; the background refresh only renews what
// this version loads.
async function cacheAdded() {
  const cache = await caches.open(CACHE);
  const files = await listedFiles();
  const cached = await Promise.all(files.map((file) => cache.match(file, { ignoreSearch: true })));
  await cache.addAll(files.filter((_, i) => !cached[i]));
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return; // API calls pass
  // One entry a file: the kiosk's timing options (?idle=...) do not make another copy.
  const key = url.origin + url.pathname;
  const cached = caches.open(CACHE).then((cache) => cache.match(key));
  let stored = null;
  const fresh = fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone(); // now: the page may read the body before the cache opens
      stored = caches.open(CACHE).then((cache) => cache.put(key, copy));
    }
    return response;
  });
  event.respondWith(cached.then((hit) => hit ?? fresh));
  // The worker may be stopped once it has answered: the refresh, and the check for added
  // files, keep it alive until they are written (offline they fail, and are tried next load).
  event.waitUntil(fresh.then(() => stored).catch(() => {}));
  if (event.request.mode === "navigate") event.waitUntil(cacheAdded().catch(() => {}));
});
