package io.tributary.gateway.internal;

import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Loads YAML into plain Java values (maps, lists, strings, numbers, booleans) and remembers the
 * line of every value by its path, such as {@code pipelines[0].source.port}, so validation errors
 * can name the line.
 *
 * <p>Thread safety: instances are immutable after {@link #load}.
 */
public final class YamlTree {
  /** A syntax error, with the parser's line and column. */
  public static final class SyntaxException extends Exception {
    public SyntaxException(String message) {
      super(message);
    }
  }

  /**
   * A key given twice in one mapping: YAML forbids it, and silently keeping one of the values would
   * hide a mistake.
   */
  public record DuplicateKey(String path, int line, int firstLine) {}

  private final Object root;
  private final Map<String, Integer> lines;
  private final List<DuplicateKey> duplicateKeys;

  private YamlTree(Object root, Map<String, Integer> lines, List<DuplicateKey> duplicateKeys) {
    this.root = root;
    this.lines = lines;
    this.duplicateKeys = List.copyOf(duplicateKeys);
  }

  public static YamlTree load(Reader reader, String fileName) throws SyntaxException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Node node;
    try {
      node = new Yaml(options).compose(reader);
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
      int col = e.getProblemMark() != null ? e.getProblemMark().getColumn() + 1 : 0;
      throw new SyntaxException(
          fileName
              + ":"
              + line
              + ":"
              + col
              + ": Invalid YAML: "
              + e.getProblem()
              + (e.getContext() != null ? " (" + e.getContext() + ")" : ""));
    } catch (RuntimeException e) {
      throw new SyntaxException(fileName + ": Invalid YAML: " + e.getMessage());
    }
    Map<String, Integer> lines = new LinkedHashMap<>();
    List<DuplicateKey> duplicates = new ArrayList<>();
    Object root = node == null ? Map.of() : convert(node, "", lines, duplicates);
    return new YamlTree(root, lines, duplicates);
  }

  public Object root() {
    return root;
  }

  /** Keys given more than once in the same mapping (the first value is kept), in document order. */
  public List<DuplicateKey> duplicateKeys() {
    return duplicateKeys;
  }

  /** The 1-based line of the value at {@code path}, or of its nearest ancestor; 0 when unknown. */
  public int line(String path) {
    String p = path;
    while (true) {
      Integer l = lines.get(p);
      if (l != null) {
        return l;
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) {
        Integer rootLine = lines.get("");
        return rootLine == null ? 0 : rootLine;
      }
      p = p.substring(0, cut);
    }
  }

  private static Object convert(
      Node node, String path, Map<String, Integer> lines, List<DuplicateKey> duplicates) {
    lines.putIfAbsent(path, node.getStartMark().getLine() + 1);
    if (node instanceof MappingNode m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (NodeTuple t : m.getValue()) {
        String key =
            t.getKeyNode() instanceof ScalarNode s ? s.getValue() : String.valueOf(t.getKeyNode());
        String childPath = path.isEmpty() ? key : path + "." + key;
        int keyLine = t.getKeyNode().getStartMark().getLine() + 1;
        if (out.containsKey(key)) {
          duplicates.add(
              new DuplicateKey(childPath, keyLine, lines.getOrDefault(childPath + "#key", 0)));
          continue;
        }
        out.put(key, convert(t.getValueNode(), childPath, lines, duplicates));
        lines.putIfAbsent(childPath + "#key", keyLine);
      }
      return out;
    }
    if (node instanceof SequenceNode s) {
      List<Object> out = new ArrayList<>();
      int i = 0;
      for (Node child : s.getValue()) {
        out.add(convert(child, path + "[" + i++ + "]", lines, duplicates));
      }
      return out;
    }
    ScalarNode s = (ScalarNode) node;
    Tag tag = s.getTag();
    String v = s.getValue();
    try {
      if (Tag.NULL.equals(tag)) {
        return null;
      } else if (Tag.BOOL.equals(tag)) {
        // YAML 1.1, as SnakeYAML resolves it: yes/no and on/off are booleans too.
        String b = v.toLowerCase(java.util.Locale.ROOT);
        return b.equals("true") || b.equals("yes") || b.equals("on");
      } else if (Tag.INT.equals(tag)) {
        return Long.parseLong(v.replace("_", ""));
      } else if (Tag.FLOAT.equals(tag)) {
        return Double.parseDouble(v);
      }
    } catch (NumberFormatException e) {
      return v;
    }
    return v;
  }
}
