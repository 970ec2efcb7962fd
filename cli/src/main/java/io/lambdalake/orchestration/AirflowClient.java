package io.lambdalake.orchestration;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lambdalake.common.config.AirflowConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Airflow's REST API (v2) as lambda-lake uses it: a token from {@code /auth/token} with the account
 * of {@code lake.airflow.*}, then DAGs, DAG runs, task instances and task logs. Every failure is a
 * {@link LakeException} whose one-line message says what went wrong and what to check.
 */
public final class AirflowClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AirflowConfig config;
  private final HttpClient http;
  private String token;

  public AirflowClient(AirflowConfig config) {
    this.config = requireNonNull(config, "config is null");
    // HTTP/1.1: Airflow's server (uvicorn) refuses the h2c upgrade Java would otherwise ask for.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.requestTimeout())
            .build();
  }

  /** A DAG as Airflow knows it. */
  public record Dag(String dagId, boolean paused, boolean stale) {
    public Dag {
      requireNonNull(dagId, "dagId is null");
    }
  }

  /** One run of a DAG. */
  public record DagRun(
      String dagId,
      String runId,
      String state,
      Optional<String> startDate,
      Optional<String> endDate,
      Map<String, Object> conf) {
    public DagRun {
      requireNonNull(dagId, "dagId is null");
      requireNonNull(runId, "runId is null");
      requireNonNull(state, "state is null");
      requireNonNull(startDate, "startDate is null");
      requireNonNull(endDate, "endDate is null");
      conf = Map.copyOf(requireNonNull(conf, "conf is null"));
    }

    public boolean finished() {
      return state.equals("success") || state.equals("failed");
    }
  }

  /** One task instance of a run; {@code label} is the rendered map index (a day) or the task. */
  public record TaskInstance(
      String taskId, int mapIndex, String label, Optional<String> state, int tryNumber) {
    public TaskInstance {
      requireNonNull(taskId, "taskId is null");
      requireNonNull(label, "label is null");
      requireNonNull(state, "state is null");
    }
  }

  public String url() {
    return config.url();
  }

  /** The DAG; an unknown DAG is a one-line error naming it. */
  public Dag dag(String dagId) {
    JsonNode dag = send("GET", "/api/v2/dags/" + encode(dagId), null, "DAG " + dagId);
    return new Dag(
        dag.path("dag_id").asText(dagId),
        dag.path("is_paused").asBoolean(false),
        dag.path("is_stale").asBoolean(false));
  }

  /** The DAGs tagged {@code tag}, by id. */
  public List<Dag> dags(String tag) {
    JsonNode page =
        send("GET", "/api/v2/dags?limit=100&order_by=dag_id&tags=" + encode(tag), null, null);
    List<Dag> dags = new ArrayList<>();
    for (JsonNode dag : page.path("dags")) {
      dags.add(
          new Dag(
              dag.path("dag_id").asText(),
              dag.path("is_paused").asBoolean(false),
              dag.path("is_stale").asBoolean(false)));
    }
    return List.copyOf(dags);
  }

  public void unpause(String dagId) {
    send(
        "PATCH",
        "/api/v2/dags/" + encode(dagId) + "?update_mask=is_paused",
        Map.of("is_paused", false),
        "DAG " + dagId);
  }

  /** Runs of a DAG, newest first; {@code states} empty means any state. */
  public List<DagRun> runs(String dagId, List<String> states, int limit) {
    StringBuilder path =
        new StringBuilder("/api/v2/dags/")
            .append(encode(dagId))
            .append("/dagRuns?order_by=-run_after&limit=")
            .append(limit);
    states.forEach(state -> path.append("&state=").append(encode(state)));
    JsonNode page = send("GET", path.toString(), null, "DAG " + dagId);
    List<DagRun> runs = new ArrayList<>();
    for (JsonNode run : page.path("dag_runs")) {
      runs.add(dagRun(run));
    }
    return List.copyOf(runs);
  }

  /** Triggers a run now with {@code conf} as its params; Airflow validates them. */
  public DagRun trigger(String dagId, String runId, Map<String, Object> conf) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("dag_run_id", runId);
    body.put("logical_date", null);
    body.put("conf", conf);
    return dagRun(send("POST", "/api/v2/dags/" + encode(dagId) + "/dagRuns", body, "DAG " + dagId));
  }

  public DagRun run(String dagId, String runId) {
    return dagRun(
        send(
            "GET",
            "/api/v2/dags/" + encode(dagId) + "/dagRuns/" + encode(runId),
            null,
            "run " + runId + " of DAG " + dagId));
  }

  public List<TaskInstance> taskInstances(String dagId, String runId) {
    JsonNode page =
        send(
            "GET",
            "/api/v2/dags/"
                + encode(dagId)
                + "/dagRuns/"
                + encode(runId)
                + "/taskInstances?limit=1000",
            null,
            "run " + runId + " of DAG " + dagId);
    List<TaskInstance> instances = new ArrayList<>();
    for (JsonNode instance : page.path("task_instances")) {
      String taskId = instance.path("task_id").asText();
      int mapIndex = instance.path("map_index").asInt(-1);
      String rendered = instance.path("rendered_map_index").asText("");
      String label =
          rendered.isBlank() || rendered.equals("null")
              ? (mapIndex < 0 ? taskId : taskId + "[" + mapIndex + "]")
              : rendered;
      instances.add(
          new TaskInstance(
              taskId,
              mapIndex,
              label,
              text(instance.path("state")),
              instance.path("try_number").asInt(0)));
    }
    return List.copyOf(instances);
  }

  /** The lines of one try's log (empty when Airflow has none). */
  public List<String> log(String dagId, String runId, TaskInstance instance) {
    String path =
        "/api/v2/dags/"
            + encode(dagId)
            + "/dagRuns/"
            + encode(runId)
            + "/taskInstances/"
            + encode(instance.taskId())
            + "/logs/"
            + Math.max(1, instance.tryNumber())
            + "?full_content=true&map_index="
            + instance.mapIndex();
    JsonNode log = send("GET", path, null, "log of " + instance.label());
    List<String> lines = new ArrayList<>();
    JsonNode content = log.path("content");
    if (content.isTextual()) {
      lines.addAll(content.asText().lines().toList());
    } else {
      for (JsonNode entry : content) {
        lines.add(entry.isTextual() ? entry.asText() : entry.path("event").asText(""));
      }
    }
    return List.copyOf(lines);
  }

  private static DagRun dagRun(JsonNode run) {
    Map<String, Object> conf =
        run.path("conf").isObject()
            ? JSON.convertValue(
                run.path("conf"),
                JSON.getTypeFactory()
                    .constructMapType(LinkedHashMap.class, String.class, Object.class))
            : Map.of();
    Map<String, Object> withoutNulls = new LinkedHashMap<>();
    conf.forEach(
        (key, value) -> {
          if (value != null) {
            withoutNulls.put(key, value);
          }
        });
    return new DagRun(
        run.path("dag_id").asText(),
        run.path("dag_run_id").asText(),
        run.path("state").asText("unknown"),
        text(run.path("start_date")),
        text(run.path("end_date")),
        withoutNulls);
  }

  private static Optional<String> text(JsonNode node) {
    return node.isTextual() && !node.asText().isBlank()
        ? Optional.of(node.asText())
        : Optional.empty();
  }

  private JsonNode send(String method, String path, Object body, String subject) {
    HttpResponse<String> response = exchange(method, path, body, token());
    if (response.statusCode() == 401) {
      // The token expired while we waited: one new token, one more try.
      token = null;
      response = exchange(method, path, body, token());
    }
    int status = response.statusCode();
    if (status / 100 == 2) {
      return parse(response, path);
    }
    String detail = detail(response.body());
    if (status == 404 && subject != null) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Airflow at "
              + config.url()
              + " has no "
              + subject
              + ": check the DAG name (lake.airflow.*-dag) and that airflow-dags/dags is its DAG"
              + " folder; `lake dags status` lists what it has");
    }
    if (status == 403) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Airflow user "
              + config.user()
              + " may not "
              + method
              + " "
              + path
              + " (403): give it a role that may trigger DAG runs");
    }
    if (status == 409) {
      throw new LakeException(
          ErrorCode.ORCHESTRATION_CONFLICT,
          "Airflow refused: " + detail + " (409 Conflict); `lake dags status` shows what runs");
    }
    if (status == 400 || status == 422) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "Airflow refused the request: " + detail + " (" + status + ")");
    }
    throw new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "Airflow at "
            + config.url()
            + " answered "
            + status
            + " to "
            + method
            + " "
            + path
            + (detail.isBlank() ? "" : ": " + detail));
  }

  private String token() {
    if (token != null) {
      return token;
    }
    Map<String, String> credentials =
        Map.of("username", config.user(), "password", config.password());
    HttpResponse<String> response = exchange("POST", "/auth/token", credentials, null);
    int status = response.statusCode();
    if (status == 401 || status == 403) {
      throw new LakeException(
          ErrorCode.INVALID_CONFIGURATION,
          "Airflow at "
              + config.url()
              + " refused the credentials of user "
              + config.user()
              + " ("
              + status
              + "): check LAKE_AIRFLOW_USER and LAKE_AIRFLOW_PASSWORD");
    }
    if (status / 100 != 2) {
      throw notAirflow("/auth/token answered " + status);
    }
    JsonNode accessToken;
    try {
      accessToken = JSON.readTree(response.body()).path("access_token");
    } catch (JsonProcessingException e) {
      throw notAirflow("/auth/token did not answer JSON");
    }
    if (!accessToken.isTextual()) {
      throw notAirflow("/auth/token gave no access_token");
    }
    token = accessToken.asText();
    return token;
  }

  private LakeException notAirflow(String what) {
    return new LakeException(
        ErrorCode.INVALID_CONFIGURATION,
        config.url()
            + " does not look like an Airflow 3 API server ("
            + what
            + "): check lake.airflow.url / LAKE_AIRFLOW_URL");
  }

  private HttpResponse<String> exchange(
      String method, String path, Object body, String bearerToken) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(config.url() + path))
            .timeout(config.requestTimeout())
            .header("Accept", "application/json");
    if (bearerToken != null) {
      request.header("Authorization", "Bearer " + bearerToken);
    }
    try {
      if (body == null) {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      } else {
        request
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
      }
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot reach Airflow at "
              + config.url()
              + " (connection refused or timed out): is it running (`lake stack status`), and is"
              + " LAKE_AIRFLOW_URL right?",
          e);
    } catch (HttpTimeoutException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Airflow at "
              + config.url()
              + " did not answer "
              + method
              + " "
              + path
              + " within "
              + config.requestTimeout().toSeconds()
              + " s",
          e);
    } catch (IOException e) {
      throw new LakeException(
          ErrorCode.SERVER_NOT_AVAILABLE,
          "Cannot talk to Airflow at " + config.url() + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Interrupted while calling Airflow", e);
    }
  }

  private JsonNode parse(HttpResponse<String> response, String path) {
    try {
      return JSON.readTree(response.body().isBlank() ? "{}" : response.body());
    } catch (JsonProcessingException e) {
      throw notAirflow(path + " did not answer JSON");
    }
  }

  /** Airflow's error body: {"detail": "..."} or {"detail": [{"msg": ...}, ...]}. */
  private static String detail(String body) {
    try {
      JsonNode detail = JSON.readTree(body).path("detail");
      if (detail.isTextual()) {
        return detail.asText();
      }
      if (detail.isArray()) {
        List<String> messages = new ArrayList<>();
        detail.forEach(item -> messages.add(item.path("msg").asText(item.toString())));
        return String.join("; ", messages);
      }
      if (detail.isObject()) {
        return detail.path("reason").asText(detail.path("message").asText(detail.toString()));
      }
    } catch (JsonProcessingException | RuntimeException e) {
      // Not JSON: the first line of the body says enough.
    }
    return body == null ? "" : body.lines().findFirst().orElse("").strip();
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, UTF_8).replace("+", "%20");
  }

  /** Duration for a human: 3m12s. */
  static String human(Duration duration) {
    long seconds = duration.toSeconds();
    return seconds >= 60 ? (seconds / 60) + "m" + (seconds % 60) + "s" : seconds + "s";
  }
}
