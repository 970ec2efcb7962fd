package io.lambdalake.ingestion.collector.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A fake sink that keeps what it is given. It acknowledges at once, or holds every publish until
 * the test acknowledges or fails it, the way Kafka may take its time.
 */
final class RecordingSink implements EventSink {
  private final List<OutgoingRecord> records = new ArrayList<>();
  private final List<Held> held = new ArrayList<>();
  private Mode mode = Mode.ACKNOWLEDGE;

  enum Mode {
    ACKNOWLEDGE,
    HOLD,
    FAIL
  }

  record Held(List<OutgoingRecord> records, Consumer<Delivery> done) {}

  synchronized RecordingSink mode(Mode mode) {
    this.mode = mode;
    return this;
  }

  @Override
  public void publish(List<OutgoingRecord> published, Consumer<Delivery> done) {
    Mode current;
    synchronized (this) {
      records.addAll(published);
      current = mode;
      if (current == Mode.HOLD) {
        held.add(new Held(published, done));
        return;
      }
    }
    if (current == Mode.ACKNOWLEDGE) {
      done.accept(Delivery.complete());
    } else {
      done.accept(failure(published));
    }
  }

  /** Acknowledges every held publish. */
  void acknowledgeHeld() {
    for (Held publish : takeHeld()) {
      publish.done().accept(Delivery.complete());
    }
  }

  /** Fails every held publish, as Kafka does after its delivery timeout. */
  void failHeld() {
    for (Held publish : takeHeld()) {
      publish.done().accept(failure(publish.records()));
    }
  }

  synchronized int heldCount() {
    return held.size();
  }

  private synchronized List<Held> takeHeld() {
    List<Held> taken = List.copyOf(held);
    held.clear();
    return taken;
  }

  private static Delivery failure(List<OutgoingRecord> records) {
    int events = (int) records.stream().filter(r -> r.kind() == OutgoingRecord.Kind.EVENT).count();
    return new Delivery(
        events,
        records.size() - events,
        Optional.of(new IllegalStateException("Kafka is down (fake)")));
  }

  synchronized List<OutgoingRecord> records() {
    return List.copyOf(records);
  }

  synchronized List<OutgoingRecord> records(OutgoingRecord.Kind kind) {
    return records.stream().filter(record -> record.kind() == kind).toList();
  }

  synchronized void clear() {
    records.clear();
  }

  @Override
  public void close(Duration timeout) {}
}
