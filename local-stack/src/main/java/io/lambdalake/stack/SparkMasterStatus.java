package io.lambdalake.stack;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a Spark standalone master says about its cluster: its status page as JSON ({@code
 * http://<host>:<web-ui-port>/json/}), the workers, the drivers that cluster deploy mode submitted
 * (active and completed, with the state Spark gives them: SUBMITTED, RUNNING, RELAUNCHING,
 * FINISHED, FAILED, ERROR, KILLED, UNKNOWN) and the applications (WAITING, RUNNING, FINISHED,
 * FAILED, KILLED, UNKNOWN). The master keeps completed drivers and applications (200 of each by
 * default), so a finished run can still be judged.
 */
public record SparkMasterStatus(
    String status,
    List<Worker> workers,
    List<Driver> activeDrivers,
    List<Driver> completedDrivers,
    List<Application> activeApplications,
    List<Application> completedApplications) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  public SparkMasterStatus {
    requireNonNull(status, "status is null");
    workers = List.copyOf(workers);
    activeDrivers = List.copyOf(activeDrivers);
    completedDrivers = List.copyOf(completedDrivers);
    activeApplications = List.copyOf(activeApplications);
    completedApplications = List.copyOf(completedApplications);
  }

  /** A worker as the master sees it: ALIVE, DEAD, DECOMMISSIONED or UNKNOWN. */
  public record Worker(String id, String host, int port, String state, int cores, int coresUsed) {
    public boolean alive() {
      return state.equals("ALIVE");
    }
  }

  /**
   * A driver submitted in cluster deploy mode; {@code worker} is the id of the worker it ran on.
   */
  public record Driver(String id, String state, String mainClass, Optional<String> worker) {
    /** FINISHED, FAILED, ERROR and KILLED are final; the others may still change. */
    public boolean done() {
      return switch (state) {
        case "FINISHED", "FAILED", "ERROR", "KILLED" -> true;
        default -> false;
      };
    }

    public boolean finished() {
      return state.equals("FINISHED");
    }
  }

  /** An application (a SparkContext) registered with the master. */
  public record Application(String id, String name, String state) {}

  /** Reads the master's status from its web UI, e.g. {@code http://127.0.0.1:17080}. */
  public static SparkMasterStatus read(String webUiUrl) {
    String url = webUiUrl.replaceAll("/+$", "") + "/json/";
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            "The Spark master's status " + url + " answered HTTP " + response.statusCode());
      }
      return parse(response.body());
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "The Spark master's status " + url + " cannot be read: " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted reading " + url, e);
    }
  }

  /** Parses the master's {@code /json/} answer. */
  public static SparkMasterStatus parse(String json) throws IOException {
    JsonNode root = JSON.readTree(json);
    List<Worker> workers = new ArrayList<>();
    for (JsonNode worker : root.path("workers")) {
      workers.add(
          new Worker(
              worker.path("id").asText(),
              worker.path("host").asText(),
              worker.path("port").asInt(),
              worker.path("state").asText(),
              worker.path("cores").asInt(),
              worker.path("coresused").asInt()));
    }
    return new SparkMasterStatus(
        root.path("status").asText("UNKNOWN"),
        workers,
        drivers(root.path("activedrivers")),
        drivers(root.path("completeddrivers")),
        applications(root.path("activeapps")),
        applications(root.path("completedapps")));
  }

  private static List<Driver> drivers(JsonNode array) {
    List<Driver> drivers = new ArrayList<>();
    for (JsonNode driver : array) {
      String worker = driver.path("worker").asText("None");
      drivers.add(
          new Driver(
              driver.path("id").asText(),
              driver.path("state").asText(),
              driver.path("mainclass").asText(),
              worker.isEmpty() || worker.equals("None") ? Optional.empty() : Optional.of(worker)));
    }
    return drivers;
  }

  private static List<Application> applications(JsonNode array) {
    List<Application> applications = new ArrayList<>();
    for (JsonNode application : array) {
      applications.add(
          new Application(
              application.path("id").asText(),
              application.path("name").asText(),
              application.path("state").asText()));
    }
    return applications;
  }

  /** The driver with this id, active or completed. */
  public Optional<Driver> driver(String id) {
    return Stream.concat(activeDrivers.stream(), completedDrivers.stream())
        .filter(driver -> driver.id().equals(id))
        .findFirst();
  }

  /** The alive worker listening on this port of this host, if the master has one. */
  public Optional<Worker> aliveWorker(String host, int port) {
    return workers.stream()
        .filter(Worker::alive)
        .filter(worker -> worker.host().equals(host) && worker.port() == port)
        .findFirst();
  }

  /** Every application, active first, with the given name (a job's app name). */
  public List<Application> applicationsNamed(String name) {
    return Stream.concat(activeApplications.stream(), completedApplications.stream())
        .filter(application -> application.name().equals(name))
        .toList();
  }
}
