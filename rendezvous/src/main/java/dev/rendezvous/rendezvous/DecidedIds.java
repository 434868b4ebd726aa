package dev.rendezvous.rendezvous;

/**
 * The ids of decided requests, each with its decision time, forgotten oldest first: by age ({@link #forgetUpTo})
 * or when the cap is reached ({@link #add}). Kept in primitive arrays, a ring of (hash, time) in decision order
 * and an open-addressing index of the hashes, so that remembering an id allocates nothing: a map of strings to
 * boxed times held each id for ten seconds as three objects, which every young collection copied again until
 * they were old enough to be promoted.
 *
 * <p>An id is remembered by a 64-bit hash of its characters. Two ids with the same hash are taken for one: a
 * request whose id collides with one decided in the last {@code decidedTtlMs} is ignored as a redelivery (the
 * proxy's guard answers it) and its scores are counted as late. With the proxy's 96 random bits per id and a
 * million ids remembered, the chance that any id collides is about 3 in 100 million.
 *
 * <p>Not thread-safe: the table's event loop owns it.
 */
final class DecidedIds {

  private static final int MIN_CAPACITY = 1024;
  /** Marks an empty slot of the index; a hash of 0 is stored as 1. */
  private static final long EMPTY = 0;

  private final int cap;
  /** Ring in decision order: hashes and decision times, {@code size} entries from {@code head}. */
  private long[] ringHashes;
  private long[] ringTimes;
  private int head;
  private int size;
  /** Open-addressing index (linear probing), a power of two at least twice the ring's length. */
  private long[] keys;
  private long[] times;
  private int mask;

  /** @param cap most ids remembered; adding one more forgets the oldest */
  DecidedIds(int cap) {
    if (cap < 1) {
      throw new IllegalArgumentException("the cap of decided ids must be positive: " + cap);
    }
    this.cap = cap;
    allocate(Math.min(cap, MIN_CAPACITY));
  }

  int size() {
    return size;
  }

  boolean contains(String id) {
    return slotOf(hash(id)) >= 0;
  }

  /**
   * Remembers {@code id} as decided at {@code atUs}, which is not earlier than any time added before.
   *
   * @return true when the cap was reached and the oldest id was forgotten to make room
   */
  boolean add(String id, long atUs) {
    boolean evicted = false;
    if (size == cap) {
      forgetOldest();
      evicted = true;
    } else if (size == ringHashes.length) {
      allocate(Math.min(cap, ringHashes.length * 2));
    }
    long h = hash(id);
    int tail = head + size;
    if (tail >= ringHashes.length) {
      tail -= ringHashes.length;
    }
    ringHashes[tail] = h;
    ringTimes[tail] = atUs;
    size++;
    put(h, atUs);
    return evicted;
  }

  /** Forgets every id decided at or before {@code limitUs}. */
  void forgetUpTo(long limitUs) {
    while (size > 0 && ringTimes[head] <= limitUs) {
      forgetOldest();
    }
  }

  private void forgetOldest() {
    long h = ringHashes[head];
    long t = ringTimes[head];
    head = head + 1 == ringHashes.length ? 0 : head + 1;
    size--;
    int slot = slotOf(h);
    // The same id decided again later (a redelivery after it was forgotten) keeps its newer entry.
    if (slot >= 0 && times[slot] == t) {
      delete(slot);
    }
  }

  /** Grows the ring to {@code length} (keeping the order) and rebuilds the index for it. */
  private void allocate(int length) {
    long[] hashes = new long[length];
    long[] at = new long[length];
    for (int i = 0; i < size; i++) {
      int from = (head + i) % ringHashes.length;
      hashes[i] = ringHashes[from];
      at[i] = ringTimes[from];
    }
    ringHashes = hashes;
    ringTimes = at;
    head = 0;
    int slots = Integer.highestOneBit(Math.max(2, length * 2 - 1)) << 1;
    keys = new long[slots];
    times = new long[slots];
    mask = slots - 1;
    for (int i = 0; i < size; i++) {
      put(ringHashes[i], ringTimes[i]);
    }
  }

  private void put(long h, long atUs) {
    int i = (int) h & mask;
    while (keys[i] != EMPTY && keys[i] != h) {
      i = (i + 1) & mask;
    }
    keys[i] = h;
    times[i] = atUs;
  }

  private int slotOf(long h) {
    int i = (int) h & mask;
    while (keys[i] != EMPTY) {
      if (keys[i] == h) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** Removes the key at {@code slot}, moving later keys of its probe run back so that lookups still find them. */
  private void delete(int slot) {
    int gap = slot;
    int i = slot;
    while (true) {
      i = (i + 1) & mask;
      long k = keys[i];
      if (k == EMPTY) {
        break;
      }
      int home = (int) k & mask;
      // k may fill the gap when its home slot is not in the cyclic range (gap, i].
      if (((i - home) & mask) >= ((i - gap) & mask)) {
        keys[gap] = k;
        times[gap] = times[i];
        gap = i;
      }
    }
    keys[gap] = EMPTY;
    times[gap] = 0;
  }

  /** FNV-1a over the characters, then MurmurHash3's finalizer so that the low bits index well; never 0. */
  static long hash(String id) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < id.length(); i++) {
      h ^= id.charAt(i);
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h == EMPTY ? 1 : h;
  }
}
