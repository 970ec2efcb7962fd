package io.lambdalake.ingestion.collector.internal;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts requests between their arrival and their answer, so shutdown can wait for them. */
public final class InFlightRequests {
  private final AtomicInteger count = new AtomicInteger();
  private final Object idle = new Object();

  public void begin() {
    count.incrementAndGet();
  }

  public void end() {
    if (count.decrementAndGet() == 0) {
      synchronized (idle) {
        idle.notifyAll();
      }
    }
  }

  public int count() {
    return count.get();
  }

  /** Waits until no request is in flight; false when the timeout passed first. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (count.get() > 0) {
        long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
        if (remainingMillis <= 0) {
          return false;
        }
        idle.wait(remainingMillis);
      }
      return true;
    }
  }
}
