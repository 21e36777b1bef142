// The durable tap queue: every tap is written to IndexedDB before anything else happens,
// so a reload, a reboot or days offline lose nothing. A rating stays "open" while the
// customer answers follow-ups, then becomes "ready" to send. Sent ratings are deleted only
// after the server answered stored/duplicate (or rejected), so a retry can never count twice
// (the server dedupes on rating_id); one answered `retry` stays, ready, for the next sync.

const DB_NAME = "storepulse-kiosk";
const STORE = "ratings";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore(STORE, { keyPath: "rating_id" });
      store.createIndex("by_created", "created");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

async function withStore(mode, work) {
  const tx = (await db()).transaction(STORE, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
  const result = await work(tx.objectStore(STORE));
  await done;
  return result;
}

export function add(rating) {
  const entry = { rating_id: rating.rating_id, state: "open", created: Date.now(), rating };
  return withStore("readwrite", (store) => request(store.put(entry)));
}

export function update(ratingId, changes, state) {
  return withStore("readwrite", async (store) => {
    const entry = await request(store.get(ratingId));
    if (!entry) return;
    Object.assign(entry.rating, changes);
    if (state) entry.state = state;
    await request(store.put(entry));
  });
}

// A reload mid-flow: what the customer gave so far is sent as it is.
export function closeOpen() {
  return withStore("readwrite", async (store) => {
    for (const entry of await request(store.getAll())) {
      if (entry.state === "open") {
        entry.state = "ready";
        await request(store.put(entry));
      }
    }
  });
}

export function ready(limit) {
  return withStore("readonly", async (store) => {
    const all = await request(store.index("by_created").getAll());
    return all.filter((entry) => entry.state === "ready").slice(0, limit);
  });
}

export function remove(ratingIds) {
  return withStore("readwrite", async (store) => {
    for (const id of ratingIds) await request(store.delete(id));
  });
}

export function count() {
  return withStore("readonly", (store) => request(store.count()));
}
