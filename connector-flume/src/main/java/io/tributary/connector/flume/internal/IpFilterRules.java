package io.tributary.connector.flume.internal;

import io.tributary.core.api.ConfigException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Flume's {@code ipFilterRules}: comma-separated {@code allow|deny:ip|name:pattern} rules, where
 * {@code *} in a pattern matches any characters. The first rule matching the peer decides; a peer
 * no rule matches is allowed. {@code name} rules match the peer's host name (a reverse DNS lookup:
 * avoid on busy ports).
 *
 * <p>Thread safety: immutable.
 */
public final class IpFilterRules {
  private record Rule(boolean allow, boolean byName, Pattern pattern, String text) {}

  private final List<Rule> rules;

  private IpFilterRules(List<Rule> rules) {
    this.rules = rules;
  }

  /**
   * @throws ConfigException naming every rule that is not {@code allow|deny:ip|name:pattern}
   */
  public static IpFilterRules parse(String spec) {
    List<Rule> rules = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (String raw : spec.split(",")) {
      String r = raw.trim();
      if (r.isEmpty()) {
        continue;
      }
      String[] parts = r.split(":", 3);
      if (parts.length != 3
          || !(parts[0].equals("allow") || parts[0].equals("deny"))
          || !(parts[1].equals("ip") || parts[1].equals("name"))
          || parts[2].isEmpty()) {
        problems.add(
            "Invalid value "
                + r
                + " for ip-filter-rules: not a rule (expected: allow|deny:ip|name:pattern, for"
                + " example allow:ip:127.*)");
        continue;
      }
      StringBuilder regex = new StringBuilder();
      String[] pieces = parts[2].split("\\*", -1);
      for (int i = 0; i < pieces.length; i++) {
        if (i > 0) {
          regex.append(".*");
        }
        regex.append(Pattern.quote(pieces[i]));
      }
      rules.add(
          new Rule(
              parts[0].equals("allow"),
              parts[1].equals("name"),
              Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE),
              r));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new IpFilterRules(List.copyOf(rules));
  }

  /** Whether there is no rule at all. */
  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** The rule that denies {@code peer}, or {@code null} if it is allowed. */
  public String denyingRule(InetSocketAddress peer) {
    String ip =
        peer.getAddress() == null ? peer.getHostString() : peer.getAddress().getHostAddress();
    String name = null;
    for (Rule r : rules) {
      String subject;
      if (r.byName()) {
        if (name == null) {
          name = peer.getAddress() == null ? peer.getHostString() : peer.getAddress().getHostName();
        }
        subject = name;
      } else {
        subject = ip;
      }
      if (r.pattern().matcher(subject).matches()) {
        return r.allow() ? null : r.text();
      }
    }
    return null;
  }
}
