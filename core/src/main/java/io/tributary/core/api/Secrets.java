package io.tributary.core.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one masking code path: which setting names hold secrets, and how settings, {@code name=value}
 * entries and free text are shown with their secrets replaced by {@link #MASK}. {@link
 * ConfigOption}, {@link Config}, the connectors' log lines and the gateway's errors and status all
 * show values through here.
 *
 * <p>A name is secret when one of its words (split at {@code .}, {@code -}, {@code _}) is or
 * contains {@code password}, {@code passwd}, {@code secret}, {@code jaas}, {@code token}, {@code
 * credential(s)}, when a word is {@code key} (as in {@code ssl.key.password}, {@code
 * fs.s3a.secret.key}, {@code fs.azure.account.key.<account>}) or ends with {@code key} ({@code
 * apikey}), or when it is a {@code sasl.*} setting other than {@code sasl.mechanism}; except names
 * whose last word is {@code provider}, {@code class}, {@code type}, {@code location} or {@code
 * mechanism} (they name a class, a format or a file, not the secret itself, e.g. {@code
 * fs.s3a.aws.credentials.provider}, {@code ssl.keystore.location}).
 *
 * <p>Pitfall: masking by name is for pass-through settings whose names Tributary does not declare.
 * A declared option that holds a secret says so itself with {@link ConfigOption#sensitive()},
 * whatever its name.
 *
 * <p>Thread safety: stateless.
 */
public final class Secrets {
  /** What is shown instead of a secret value. */
  public static final String MASK = "******";

  /** Secret values shorter than this are not searched for in free text (see {@link #scrub}). */
  public static final int MIN_SCRUBBED_LENGTH = 4;

  private static final Pattern WORD_SEPARATORS = Pattern.compile("[._\\-]");
  private static final Set<String> SECRET_WORDS =
      Set.of("password", "passwd", "secret", "jaas", "token", "credential", "credentials");
  private static final Set<String> NOT_SECRET_LAST_WORDS =
      Set.of("provider", "class", "type", "location", "mechanism");

  /** Secrets inside a secret value, such as the password of a JAAS line: {@code password="..."}. */
  private static final Pattern INNER_SECRET =
      Pattern.compile(
          "(?i)(?:password|secret|token|credential)\\w*\\s*=\\s*(\"[^\"]*\"|'[^']*'|[^\\s;,]+)");

  private Secrets() {}

  /** Whether a setting named {@code name} holds a secret (see the class comment for the rule). */
  public static boolean isSecretName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    String[] words = WORD_SEPARATORS.split(n);
    if (words.length == 0 || NOT_SECRET_LAST_WORDS.contains(words[words.length - 1])) {
      return false;
    }
    if (words[0].equals("sasl") && !n.equals("sasl.mechanism")) {
      return true;
    }
    for (String w : words) {
      if (w.equals("key") || w.endsWith("key")) {
        return true;
      }
      for (String s : SECRET_WORDS) {
        if (w.contains(s)) {
          return true;
        }
      }
    }
    return false;
  }

  /** {@code value}, or {@link #MASK} when {@code name} is a secret name. */
  public static Object maskIfSecretName(String name, Object value) {
    return isSecretName(name) ? MASK : value;
  }

  /**
   * A copy of {@code settings}, in the same order, with the value of every secret name replaced by
   * {@link #MASK}.
   */
  public static Map<String, Object> mask(Map<String, ?> settings) {
    Map<String, Object> out = new LinkedHashMap<>();
    settings.forEach((k, v) -> out.put(k, maskIfSecretName(k, v)));
    return out;
  }

  /**
   * {@code settings} as {@code {name=value, ...}} for logs, errors and {@code toString}, secrets
   * masked.
   */
  public static String describe(Map<String, ?> settings) {
    return mask(settings).toString();
  }

  /**
   * One {@code name=value} entry (as in {@code client-properties}) for display: the value masked
   * when the name is a secret name, and the whole entry masked when it has no {@code =} (its name
   * cannot be told from its value).
   */
  public static String maskEntry(String entry) {
    int eq = entry.indexOf('=');
    if (eq <= 0) {
      return MASK;
    }
    String name = entry.substring(0, eq).trim();
    return isSecretName(name) ? name + "=" + MASK : entry;
  }

  /**
   * The secret values in {@code settings}, for {@link #scrub}: values of secret names and what they
   * quote inside.
   */
  public static List<String> secretValues(Map<String, ?> settings) {
    List<String> out = new ArrayList<>();
    settings.forEach(
        (k, v) -> {
          if (v != null && isSecretName(k)) {
            addSecret(String.valueOf(v), out);
          }
        });
    return out;
  }

  /**
   * {@code value} and the secrets it quotes inside (a JAAS line's {@code password="..."}), added to
   * {@code out}.
   */
  static void addSecret(String value, List<String> out) {
    out.add(value);
    Matcher m = INNER_SECRET.matcher(value);
    while (m.find()) {
      String inner = m.group(1);
      if (inner.length() >= 2 && (inner.startsWith("\"") || inner.startsWith("'"))) {
        inner = inner.substring(1, inner.length() - 1);
      }
      out.add(inner);
    }
  }

  /**
   * {@code text} with every occurrence of a value in {@code secrets} replaced by {@link #MASK}: the
   * last line of defence for free text Tributary did not write itself (an exception message of a
   * client library, a failure shown in the status). Values shorter than {@link
   * #MIN_SCRUBBED_LENGTH} are left alone, since replacing them would garble the text while hiding
   * little.
   */
  public static String scrub(String text, Collection<String> secrets) {
    if (text == null || secrets.isEmpty()) {
      return text;
    }
    List<String> longestFirst = new ArrayList<>(secrets);
    longestFirst.sort(Comparator.comparingInt(String::length).reversed());
    String out = text;
    for (String s : longestFirst) {
      if (s.length() >= MIN_SCRUBBED_LENGTH) {
        out = out.replace(s, MASK);
      }
    }
    return out;
  }

  /**
   * A copy of {@code t} and its causes whose messages are {@link #scrub scrubbed} of {@code
   * secrets}, with the same class names (in the message) and stack traces: for logging a failure
   * whose text may quote a secret. Returns {@code t} itself when there is nothing to scrub.
   */
  public static Throwable scrubbed(Throwable t, Collection<String> secrets) {
    if (t == null || secrets.isEmpty()) {
      return t;
    }
    Throwable cause = t.getCause() == t ? null : scrubbed(t.getCause(), secrets);
    String text = scrub(String.valueOf(t.getMessage()), secrets);
    ScrubbedException copy = new ScrubbedException(t.getClass().getName() + ": " + text, cause);
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  /**
   * Stands for a throwable whose message was scrubbed of secrets; its message starts with the
   * original class.
   */
  public static final class ScrubbedException extends RuntimeException {
    ScrubbedException(String message, Throwable cause) {
      super(message, cause, false, true);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }
}
