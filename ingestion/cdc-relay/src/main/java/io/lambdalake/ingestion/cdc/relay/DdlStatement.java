package io.lambdalake.ingestion.cdc.relay;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One table-level effect of a DDL statement from the binlog, named as Maxwell names its DDL records
 * ({@code table-create}, {@code table-drop}, {@code table-alter}) plus the two Maxwell does not
 * publish as such: {@code table-truncate} and {@code table-rename}. A statement that touches
 * several tables ({@code DROP TABLE a, b}, {@code RENAME TABLE a TO b, c TO d}) gives one effect
 * per table, in the statement's order.
 *
 * @param kind what happened to the table
 * @param database the table's database
 * @param table the table's name (before a rename)
 * @param renamedTo the new database and name, for a rename
 */
public record DdlStatement(
    Kind kind, String database, String table, Optional<QualifiedName> renamedTo) {

  public DdlStatement {
    requireNonNull(kind, "kind is null");
    requireNonNull(database, "database is null");
    requireNonNull(table, "table is null");
    requireNonNull(renamedTo, "renamedTo is null");
    if ((kind == Kind.RENAME) != renamedTo.isPresent()) {
      throw new IllegalArgumentException("a rename, and only a rename, names its new table");
    }
  }

  /** What a statement did to one table, with the type name its record carries. */
  public enum Kind {
    CREATE("table-create"),
    TRUNCATE("table-truncate"),
    DROP("table-drop"),
    RENAME("table-rename"),
    ALTER("table-alter");

    private final String type;

    Kind(String type) {
      this.type = type;
    }

    /** The record's {@code type}: stable, read by the CDC job. */
    public String type() {
      return type;
    }
  }

  /** A table named with its database. */
  public record QualifiedName(String database, String table) {
    public QualifiedName {
      requireNonNull(database, "database is null");
      requireNonNull(table, "table is null");
    }
  }

  private static final String NAME = "(?:`(?:[^`]|``)+`|[\\p{L}\\p{N}_$]+)";
  private static final String QUALIFIED = NAME + "(?:\\s*\\.\\s*" + NAME + ")?";
  private static final int FLAGS = Pattern.CASE_INSENSITIVE | Pattern.DOTALL;
  private static final Pattern TRUNCATE =
      Pattern.compile("TRUNCATE\\s+(?:TABLE\\s+)?(" + QUALIFIED + ")\\s*", FLAGS);
  private static final Pattern DROP =
      Pattern.compile(
          "DROP\\s+TABLES?\\s+(?:IF\\s+EXISTS\\s+)?(.+?)(?:\\s+(?:WAIT\\s+\\d+|NOWAIT))?"
              + "(?:\\s+(?:RESTRICT|CASCADE))?\\s*",
          FLAGS);
  private static final Pattern RENAME = Pattern.compile("RENAME\\s+TABLES?\\s+(.+)", FLAGS);
  private static final Pattern RENAME_PAIR =
      Pattern.compile(
          "(" + QUALIFIED + ")(?:\\s+(?:WAIT\\s+\\d+|NOWAIT))?\\s+TO\\s+(" + QUALIFIED + ")\\s*",
          FLAGS);
  private static final Pattern ALTER =
      Pattern.compile(
          "ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?("
              + QUALIFIED
              + ")\\s+(.*)",
          FLAGS);
  private static final Pattern ALTER_RENAME =
      Pattern.compile("RENAME\\s+(?:TO\\s+|AS\\s+)?(" + QUALIFIED + ")\\s*", FLAGS);
  private static final Pattern CREATE =
      Pattern.compile(
          "CREATE\\s+(?:OR\\s+REPLACE\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?("
              + QUALIFIED
              + ")",
          FLAGS);

  /**
   * The table effects of one statement as the binlog holds it, with the session's database for
   * unqualified names; empty for statements that change no table's rows or shape (BEGIN, GRANT,
   * temporary tables, views, ...).
   */
  public static List<DdlStatement> parse(String sql, String sessionDatabase) {
    String statement = withoutComments(sql).strip();
    while (statement.endsWith(";")) {
      statement = statement.substring(0, statement.length() - 1).strip();
    }
    String database = sessionDatabase == null ? "" : sessionDatabase;
    List<DdlStatement> effects = new ArrayList<>();
    Matcher matcher;
    if ((matcher = TRUNCATE.matcher(statement)).matches()) {
      add(effects, Kind.TRUNCATE, name(matcher.group(1), database), Optional.empty());
    } else if (statement.regionMatches(true, 0, "DROP TEMPORARY", 0, 14)) {
      return List.of();
    } else if ((matcher = DROP.matcher(statement)).matches()) {
      for (String part : splitList(matcher.group(1))) {
        add(effects, Kind.DROP, name(part, database), Optional.empty());
      }
    } else if ((matcher = RENAME.matcher(statement)).matches()) {
      for (String part : splitList(matcher.group(1))) {
        Matcher pair = RENAME_PAIR.matcher(part);
        if (pair.matches()) {
          add(
              effects,
              Kind.RENAME,
              name(pair.group(1), database),
              Optional.of(name(pair.group(2), database)));
        }
      }
    } else if ((matcher = ALTER.matcher(statement)).matches()) {
      QualifiedName table = name(matcher.group(1), database);
      Matcher rename = ALTER_RENAME.matcher(matcher.group(2));
      if (rename.matches()) {
        add(effects, Kind.RENAME, table, Optional.of(name(rename.group(1), database)));
      } else {
        add(effects, Kind.ALTER, table, Optional.empty());
      }
    } else if ((matcher = CREATE.matcher(statement)).lookingAt()) {
      add(effects, Kind.CREATE, name(matcher.group(1), database), Optional.empty());
    }
    return List.copyOf(effects);
  }

  private static void add(
      List<DdlStatement> effects,
      Kind kind,
      QualifiedName table,
      Optional<QualifiedName> renamedTo) {
    if (table.database().isEmpty()) {
      // An unqualified name without a session database: nothing says which table it was.
      return;
    }
    effects.add(new DdlStatement(kind, table.database(), table.table(), renamedTo));
  }

  /** Splits a comma-separated list of names (or rename pairs), commas in backticks kept. */
  private static List<String> splitList(String list) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    for (char c : list.toCharArray()) {
      if (c == '`') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        parts.add(part.toString().strip());
        part.setLength(0);
      } else {
        part.append(c);
      }
    }
    parts.add(part.toString().strip());
    return parts.stream().filter(p -> !p.isEmpty()).toList();
  }

  private static QualifiedName name(String text, String database) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    String trimmed = text.strip();
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      if (c == '`') {
        if (quoted && i + 1 < trimmed.length() && trimmed.charAt(i + 1) == '`') {
          part.append('`');
          i++;
        } else {
          quoted = !quoted;
        }
      } else if (c == '.' && !quoted) {
        parts.add(part.toString().strip());
        part.setLength(0);
      } else {
        part.append(c);
      }
    }
    parts.add(part.toString().strip());
    return parts.size() == 1
        ? new QualifiedName(database, parts.get(0))
        : new QualifiedName(parts.get(0), parts.get(1));
  }

  /** The statement without comments ({@code /* *}{@code /}, {@code -- }, {@code #}). */
  static String withoutComments(String sql) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    char quote = 0;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (quote != 0) {
        out.append(c);
        if (c == quote) {
          quote = 0;
        }
        i++;
      } else if (c == '`' || c == '\'' || c == '"') {
        quote = c;
        out.append(c);
        i++;
      } else if (sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? sql.length() : end + 2;
        out.append(' ');
      } else if (sql.startsWith("-- ", i) || c == '#') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end + 1;
        out.append(' ');
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
