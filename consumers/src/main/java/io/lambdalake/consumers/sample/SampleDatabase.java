package io.lambdalake.consumers.sample;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.MariaDbConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Period;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * The sample matrimonial database in MariaDB: its schema (schema.sql beside this class) and a
 * seeded generator of ordinary activity (profiles, interests and their answers, messages between
 * matched profiles, logins, a few reports), so the same seed gives the same rows.
 */
public final class SampleDatabase {
  private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
  private static final List<String> CITIES =
      List.of(
          "Mumbai",
          "Delhi",
          "Bengaluru",
          "Hyderabad",
          "Chennai",
          "Pune",
          "Kolkata",
          "Ahmedabad",
          "Jaipur",
          "Kochi");
  private static final List<String> RELIGIONS =
      List.of("Hindu", "Hindu", "Hindu", "Muslim", "Christian", "Sikh", "Jain", "Buddhist");
  private static final List<String> COMMUNITIES =
      List.of("Iyer", "Nair", "Maratha", "Punjabi", "Bengali", "Gujarati", "Marwari", "Syrian");
  private static final List<String> EDUCATION =
      List.of("school", "diploma", "bachelor", "master", "doctorate");
  private static final List<String> FIRST_NAMES =
      List.of(
          "Aarav",
          "Vivaan",
          "Aditya",
          "Arjun",
          "Rohan",
          "Kabir",
          "Ishaan",
          "Farhan",
          "Joseph",
          "Harpreet",
          "Ananya",
          "Diya",
          "Priya",
          "Meera",
          "Sara",
          "Aisha",
          "Kavya",
          "Riya",
          "Maria",
          "Simran");
  private static final List<String> GREETINGS =
      List.of(
          "Hi, I liked your profile.",
          "Hello! Your interest in music caught my eye.",
          "Namaste, would you like to talk this weekend?",
          "Thanks for accepting. Which city do you work in?",
          "Our families might get along well.",
          "I also love travelling, where did you go last?",
          "Good morning! How was your week?");
  private static final List<String> REPORT_REASONS =
      List.of("fake_profile", "harassment", "spam", "inappropriate_photo");

  /**
   * What to generate.
   *
   * @param profiles how many profiles
   * @param days how many days of activity before {@code until}
   * @param seed the random seed: the same seed and until give the same rows
   * @param until the end of the generated activity (UTC); nothing is generated after it
   */
  public record Options(int profiles, int days, long seed, Instant until) {
    public Options {
      if (profiles < 2) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--profiles must be at least 2, but is " + profiles);
      }
      if (days < 1) {
        throw new LakeException(
            ErrorCode.INVALID_ARGUMENT, "--days must be at least 1, but is " + days);
      }
      requireNonNull(until, "until is null");
    }
  }

  /** How many rows each table got. */
  public record Counts(long profiles, long interests, long messages, long logins, long reports) {}

  private final MariaDbConfig mariaDb;
  private final String database;

  public SampleDatabase(MariaDbConfig mariaDb, String database) {
    this.mariaDb = requireNonNull(mariaDb, "mariaDb is null");
    requireNonNull(database, "database is null");
    if (!DATABASE_NAME.matcher(database).matches()) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT,
          "The sample database name must be letters, digits and underscores, not '"
              + database
              + "'");
    }
    this.database = database;
  }

  public String database() {
    return database;
  }

  /**
   * Creates the database and its tables. With {@code replace}, drops an existing one first;
   * without, refuses to touch a database that exists.
   */
  public void create(boolean replace) {
    try (Connection connection = connect("")) {
      try (Statement statement = connection.createStatement()) {
        if (exists(connection)) {
          if (!replace) {
            throw new LakeException(
                ErrorCode.INVALID_ARGUMENT,
                "The database "
                    + database
                    + " exists already: pass --replace to drop and recreate it, or choose another"
                    + " name (lake.consumers.sample-database)");
          }
          statement.execute("DROP DATABASE `" + database + "`");
        }
        statement.execute(
            "CREATE DATABASE `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
        statement.execute("USE `" + database + "`");
        for (String sql : schemaStatements()) {
          statement.execute(sql);
        }
      }
    } catch (SQLException e) {
      throw failure("creating the sample database " + database, e);
    }
  }

  /** The statements of schema.sql, comments removed. */
  public static List<String> schemaStatements() {
    String text;
    try (InputStream in = SampleDatabase.class.getResourceAsStream("schema.sql")) {
      if (in == null) {
        throw new LakeException(ErrorCode.INTERNAL_ERROR, "schema.sql is missing from the jar");
      }
      text = new String(in.readAllBytes(), UTF_8);
    } catch (IOException e) {
      throw new LakeException(ErrorCode.INTERNAL_ERROR, "Cannot read schema.sql", e);
    }
    StringBuilder withoutComments = new StringBuilder();
    text.lines()
        .filter(line -> !line.strip().startsWith("--"))
        .forEach(line -> withoutComments.append(line).append('\n'));
    return Arrays.stream(withoutComments.toString().split(";\\s*\\n"))
        .map(String::strip)
        .filter(sql -> !sql.isEmpty())
        .toList();
  }

  /** Fills the (empty) tables with ordinary activity; prints progress per table. */
  public Counts generate(Options options, PrintStream progress) {
    requireNonNull(options, "options is null");
    Random random = new Random(options.seed());
    LocalDateTime until = LocalDateTime.ofInstant(options.until(), ZoneOffset.UTC);
    LocalDateTime from = until.minusDays(options.days());
    try (Connection connection = connect(database)) {
      connection.setAutoCommit(false);
      List<Profile> profiles = profiles(options, random, until);
      insertProfiles(connection, profiles);
      progress.printf("%s.profiles: %d rows%n", database, profiles.size());
      Activity activity = activity(connection, profiles, random, from, until);
      progress.printf(
          "%s: %d interests, %d messages, %d logins, %d reports over %d days%n",
          database,
          activity.interests,
          activity.messages,
          activity.logins,
          activity.reports,
          options.days());
      progress.flush();
      return new Counts(
          profiles.size(),
          activity.interests,
          activity.messages,
          activity.logins,
          activity.reports);
    } catch (SQLException e) {
      throw failure("filling the sample database " + database, e);
    }
  }

  private record Profile(
      long id,
      String gender,
      LocalDate birthDate,
      String city,
      String religion,
      LocalDateTime createdAt) {}

  private static List<Profile> profiles(Options options, Random random, LocalDateTime until) {
    List<Profile> profiles = new ArrayList<>();
    for (int i = 1; i <= options.profiles(); i++) {
      String gender = i % 2 == 0 ? "female" : "male";
      int age = 21 + random.nextInt(18);
      LocalDate birthDate = until.toLocalDate().minusYears(age).minusDays(random.nextInt(365));
      // Accounts are between a few days and a year old; none newer than the activity's start.
      LocalDateTime createdAt =
          until.minusDays(options.days() + 1 + random.nextInt(365)).truncatedTo(ChronoUnit.SECONDS);
      profiles.add(
          new Profile(
              i,
              gender,
              birthDate,
              CITIES.get(random.nextInt(CITIES.size())),
              RELIGIONS.get(random.nextInt(RELIGIONS.size())),
              createdAt));
    }
    return profiles;
  }

  private void insertProfiles(Connection connection, List<Profile> profiles) throws SQLException {
    Random random = new Random(profiles.size() * 31L);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO profiles (id, name, gender, birth_date, city, religion, community,"
                + " education, education_level, pref_gender, pref_age_min, pref_age_max,"
                + " pref_religion, pref_city, pref_education_min, status, created_at, updated_at)"
                + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
      for (Profile profile : profiles) {
        int education = 1 + random.nextInt(EDUCATION.size());
        int age = Period.between(profile.birthDate, profile.createdAt.toLocalDate()).getYears();
        int min = Math.max(18, age - 2 - random.nextInt(5));
        insert.setLong(1, profile.id);
        insert.setString(
            2,
            FIRST_NAMES.get((profile.gender.equals("female") ? 10 : 0) + random.nextInt(10))
                + " "
                + (char) ('A' + random.nextInt(26))
                + ".");
        insert.setString(3, profile.gender);
        insert.setObject(4, profile.birthDate);
        insert.setString(5, profile.city);
        insert.setString(6, profile.religion);
        insert.setString(7, COMMUNITIES.get(random.nextInt(COMMUNITIES.size())));
        insert.setString(8, EDUCATION.get(education - 1));
        insert.setInt(9, education);
        insert.setString(10, profile.gender.equals("female") ? "male" : "female");
        insert.setInt(11, min);
        insert.setInt(12, min + 4 + random.nextInt(8));
        // Two in five insist on their own religion; one in three prefers their own city.
        insert.setString(13, random.nextInt(5) < 2 ? profile.religion : null);
        insert.setString(14, random.nextInt(3) == 0 ? profile.city : null);
        if (random.nextInt(4) == 0) {
          insert.setInt(15, 3);
        } else {
          insert.setNull(15, Types.INTEGER);
        }
        insert.setString(16, random.nextInt(20) == 0 ? "hidden" : "active");
        insert.setTimestamp(17, Timestamp.valueOf(profile.createdAt));
        insert.setTimestamp(18, Timestamp.valueOf(profile.createdAt));
        insert.addBatch();
      }
      insert.executeBatch();
      connection.commit();
    }
  }

  private static final class Activity {
    long interests;
    long messages;
    long logins;
    long reports;
  }

  /**
   * Day by day: each profile logs in about once a day, sends an interest about every other day, the
   * receiver answers most of them within hours, and accepted pairs exchange a few messages. A few
   * profiles get reported once. All at ordinary rates, far below the spam rules.
   */
  private static Activity activity(
      Connection connection,
      List<Profile> profiles,
      Random random,
      LocalDateTime from,
      LocalDateTime until)
      throws SQLException {
    Activity activity = new Activity();
    try (PreparedStatement interest =
            connection.prepareStatement(
                "INSERT INTO interests (sender_id, receiver_id, status, created_at, responded_at)"
                    + " VALUES (?,?,?,?,?)");
        PreparedStatement message =
            connection.prepareStatement(
                "INSERT INTO messages (sender_id, receiver_id, body, created_at) VALUES (?,?,?,?)");
        PreparedStatement login =
            connection.prepareStatement(
                "INSERT INTO logins (profile_id, ip, device, created_at) VALUES (?,?,?,?)");
        PreparedStatement report =
            connection.prepareStatement(
                "INSERT INTO reports (reporter_id, reported_id, reason, created_at)"
                    + " VALUES (?,?,?,?)")) {
      long dayCount = Duration.between(from, until).toDays();
      for (long day = 0; day < dayCount; day++) {
        LocalDateTime dayStart = from.plusDays(day);
        for (Profile profile : profiles) {
          login.setLong(1, profile.id);
          login.setString(2, "10." + random.nextInt(256) + "." + random.nextInt(256) + ".7");
          login.setString(3, random.nextBoolean() ? "android" : "web");
          login.setTimestamp(4, at(dayStart, random));
          login.addBatch();
          activity.logins++;
          if (random.nextInt(2) != 0) {
            continue;
          }
          Profile receiver = profiles.get(random.nextInt(profiles.size()));
          if (receiver.id == profile.id || receiver.gender.equals(profile.gender)) {
            continue;
          }
          Timestamp sent = at(dayStart, random);
          int answer = random.nextInt(10);
          String status = answer < 4 ? "accepted" : answer < 7 ? "declined" : "sent";
          interest.setLong(1, profile.id);
          interest.setLong(2, receiver.id);
          interest.setString(3, status);
          interest.setTimestamp(4, sent);
          interest.setTimestamp(
              5,
              status.equals("sent")
                  ? null
                  : Timestamp.valueOf(
                      sent.toLocalDateTime().plusMinutes(30 + random.nextInt(600))));
          interest.addBatch();
          activity.interests++;
          if (status.equals("accepted")) {
            LocalDateTime at = sent.toLocalDateTime().plusHours(12);
            for (int i = 0; i < 1 + random.nextInt(4); i++) {
              boolean fromSender = i % 2 == 0;
              at = at.plusMinutes(5 + random.nextInt(90));
              message.setLong(1, fromSender ? profile.id : receiver.id);
              message.setLong(2, fromSender ? receiver.id : profile.id);
              message.setString(3, GREETINGS.get(random.nextInt(GREETINGS.size())));
              message.setTimestamp(4, Timestamp.valueOf(at.isBefore(until) ? at : until));
              message.addBatch();
              activity.messages++;
            }
          }
          if (random.nextInt(200) == 0) {
            report.setLong(1, receiver.id);
            report.setLong(2, profile.id);
            report.setString(3, REPORT_REASONS.get(random.nextInt(REPORT_REASONS.size())));
            report.setTimestamp(4, at(dayStart, random));
            report.addBatch();
            activity.reports++;
          }
        }
        if (day == dayCount - 1 && activity.reports == 0) {
          // Every table gets rows, so that each has a mirror for the consumers to read.
          report.setLong(1, profiles.get(0).id);
          report.setLong(2, profiles.get(1).id);
          report.setString(3, REPORT_REASONS.get(0));
          report.setTimestamp(4, at(dayStart, random));
          report.addBatch();
          activity.reports++;
        }
        interest.executeBatch();
        message.executeBatch();
        login.executeBatch();
        report.executeBatch();
        connection.commit();
      }
    }
    return activity;
  }

  private static Timestamp at(LocalDateTime dayStart, Random random) {
    return Timestamp.valueOf(dayStart.plusSeconds(random.nextInt(86_400)));
  }

  private boolean exists(Connection connection) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?")) {
      query.setString(1, database);
      try (ResultSet result = query.executeQuery()) {
        result.next();
        return result.getLong(1) > 0;
      }
    }
  }

  /** A connection in UTC, to the database or (with an empty name) to the server. */
  public Connection connect(String databaseName) throws SQLException {
    Connection connection =
        DriverManager.getConnection(
            mariaDb.jdbcUrl(databaseName), mariaDb.user(), mariaDb.password());
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET time_zone = '+00:00'");
    }
    return connection;
  }

  private LakeException failure(String what, SQLException e) {
    return new LakeException(
        ErrorCode.SERVER_NOT_AVAILABLE,
        "MariaDB at "
            + mariaDb.host()
            + ":"
            + mariaDb.port()
            + " failed "
            + what
            + ": "
            + e.getMessage(),
        e);
  }
}
