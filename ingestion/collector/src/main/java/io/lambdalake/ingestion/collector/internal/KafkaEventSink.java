package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.CollectorConfig;
import io.lambdalake.common.config.KafkaConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the collector's records with one idempotent, acks=all producer. Sends happen on a
 * dispatcher thread, so that an event loop never blocks even when the producer would (its buffer
 * full, or metadata missing while Kafka is down): then the send fails after max.block.ms, or at
 * once when the dispatcher's queue or the buffer is full, and the request gets 503.
 */
public final class KafkaEventSink implements EventSink {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaEventSink.class);

  private final KafkaProducer<byte[], byte[]> producer;
  private final ThreadPoolExecutor dispatcher;
  private final Runnable onKafkaFailure;
  private final Metric bufferAvailable;
  private final Metric bufferTotal;

  /**
   * @param onKafkaFailure called when Kafka failed a record, so readiness can turn at once
   */
  public KafkaEventSink(KafkaConfig kafka, CollectorConfig config, Runnable onKafkaFailure) {
    this.onKafkaFailure = requireNonNull(onKafkaFailure, "onKafkaFailure is null");
    Properties properties = KafkaClientProperties.producer(kafka, "lake-collector");
    properties.putAll(config.producer().kafkaProperties());
    try {
      this.producer = new KafkaProducer<>(properties);
    } catch (KafkaException e) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "The collector's Kafka producer cannot be created: " + e.getMessage(),
          e);
    }
    this.dispatcher =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(config.limits().maxInFlightRequests()),
            runnable -> {
              Thread thread = new Thread(runnable, "collector-kafka-dispatcher");
              thread.setDaemon(true);
              return thread;
            });
    this.bufferAvailable = producerMetric("buffer-available-bytes");
    this.bufferTotal = producerMetric("buffer-total-bytes");
  }

  @Override
  public void publish(List<OutgoingRecord> records, Consumer<Delivery> done) {
    if (records.isEmpty()) {
      done.accept(Delivery.complete());
      return;
    }
    try {
      dispatcher.execute(() -> send(records, done));
    } catch (RejectedExecutionException e) {
      failAll(
          records,
          done,
          new LakeException(
              ErrorCode.SERVER_NOT_AVAILABLE,
              "the collector's send queue is full or closed: Kafka does not keep up"));
    }
  }

  private void send(List<OutgoingRecord> records, Consumer<Delivery> done) {
    long bytes = 0;
    for (OutgoingRecord record : records) {
      bytes += record.key().length + record.value().length + 64;
    }
    if (bytes > bufferBytesTotal() - bufferBytesInUse()) {
      failAll(
          records,
          done,
          new LakeException(
              ErrorCode.SERVER_NOT_AVAILABLE,
              "the producer buffer is full: Kafka does not acknowledge fast enough"));
      return;
    }
    Completion completion = new Completion(records.size(), done);
    RuntimeException failure = null;
    for (OutgoingRecord record : records) {
      if (failure != null) {
        completion.complete(record.kind(), failure);
        continue;
      }
      try {
        producer.send(
            new ProducerRecord<>(record.topic(), record.key(), record.value()),
            (metadata, exception) -> {
              if (exception != null) {
                onKafkaFailure.run();
              }
              completion.complete(record.kind(), exception);
            });
      } catch (KafkaException | IllegalStateException e) {
        // A timeout waiting for metadata or buffer space, or the producer closed: fail the rest.
        onKafkaFailure.run();
        failure = e;
        completion.complete(record.kind(), e);
      }
    }
  }

  private static void failAll(
      List<OutgoingRecord> records, Consumer<Delivery> done, RuntimeException failure) {
    Completion completion = new Completion(records.size(), done);
    for (OutgoingRecord record : records) {
      completion.complete(record.kind(), failure);
    }
  }

  @Override
  public long bufferBytesInUse() {
    return bufferBytesTotal() - (long) value(bufferAvailable);
  }

  @Override
  public long bufferBytesTotal() {
    return (long) value(bufferTotal);
  }

  @Override
  public void close(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    dispatcher.shutdown();
    try {
      if (!dispatcher.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.warn("The Kafka dispatcher did not finish within {}", timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long remaining = Math.max(0, deadline - System.nanoTime());
    producer.close(Duration.ofNanos(remaining));
  }

  private Metric producerMetric(String name) {
    for (Map.Entry<MetricName, ? extends Metric> entry : producer.metrics().entrySet()) {
      if (entry.getKey().name().equals(name) && entry.getKey().group().equals("producer-metrics")) {
        return entry.getValue();
      }
    }
    throw new LakeException(ErrorCode.INTERNAL_ERROR, "The Kafka producer has no metric " + name);
  }

  private static double value(Metric metric) {
    return metric.metricValue() instanceof Number number ? number.doubleValue() : 0;
  }

  /** Counts a request's records down and reports once when the last one is done. */
  private static final class Completion {
    private final AtomicInteger remaining;
    private final AtomicInteger failedEvents = new AtomicInteger();
    private final AtomicInteger failedQuarantine = new AtomicInteger();
    private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    private final Consumer<Delivery> done;

    Completion(int records, Consumer<Delivery> done) {
      this.remaining = new AtomicInteger(records);
      this.done = done;
    }

    void complete(OutgoingRecord.Kind kind, Throwable failure) {
      if (failure != null) {
        firstFailure.compareAndSet(null, failure);
        switch (kind) {
          case EVENT -> failedEvents.incrementAndGet();
          case QUARANTINE -> failedQuarantine.incrementAndGet();
        }
      }
      if (remaining.decrementAndGet() == 0) {
        done.accept(
            new Delivery(
                failedEvents.get(),
                failedQuarantine.get(),
                Optional.ofNullable(firstFailure.get())));
      }
    }
  }
}
