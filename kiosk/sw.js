// Offline start: the kiosk's files are served from this cache, so a tablet that reboots
// without network still opens the kiosk (and its queue). Stale-while-revalidate: a new
// version is fetched in the background and used from the next load on.
const CACHE = "storepulse-kiosk-v2";
const SHELL = ["./", "index.html", "app.js", "queue.js", "strings.js", "kiosk.css"];
// Where the API is (written at deploy), kept to start offline too; absent where the API
// shares the pages' origin, so its absence does not fail the install.
const CONFIG = "../config.json";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL).then(() => cache.add(CONFIG).catch(() => {}))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return; // API calls pass
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(event.request, { ignoreSearch: true });
      const fresh = fetch(event.request)
        .then((response) => {
          if (response.ok) cache.put(event.request, response.clone());
          return response;
        })
        .catch(() => cached);
      return cached ?? fresh;
    }),
  );
});
