package dev.rendezvous.runtime;

/**
 * What a {@link ConsumerLoop} does with each non-empty batch it polls. Called on the loop's thread, one
 * batch at a time, in poll order. A handler that throws gets the same batch again after a backoff, as the
 * loop's {@link ErrorPolicy} says, so it must tolerate seeing records twice (every component's delivery is
 * at least once). A record that cannot be decoded is not a reason to throw: hand it to
 * {@link Batch#skipPoison} (or decode through {@link Batch#decode}) and go on with the others.
 */
@FunctionalInterface
public interface BatchHandler<K, V> {

  void handle(Batch<K, V> batch) throws Exception;
}
