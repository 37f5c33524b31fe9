package io.tributary.gateway.plugins;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The class loader of one plugin: child-first over the plugin's jars, with a parent that exposes
 * only the JDK and Tributary's contract.
 *
 * <p>A class name is looked up in this order:
 *
 * <ol>
 *   <li>the JDK (the platform class loader): a plugin cannot replace {@code java.*}, {@code
 *       javax.net.ssl.*} or the XML parsers;
 *   <li>the shared packages, always from the gateway even when the plugin carries a copy (a second
 *       {@code Record} class would make every record a {@code ClassCastException}): {@code
 *       io.tributary.core.api}, {@code io.tributary.core.checkpoint}, the SLF4J API and the
 *       Micrometer facade ({@link #SHARED_PREFIXES});
 *   <li>the plugin's own jars;
 *   <li>nothing else: the gateway's other classes (its Netty, Jackson, picocli, the core's
 *       internals) and every other plugin's classes are invisible, so {@code loadClass} throws
 *       {@link ClassNotFoundException}.
 * </ol>
 *
 * <p>Resources follow the same rule (the plugin's own first, then the JDK's), so a {@link
 * java.util.ServiceLoader} over this loader finds only the plugin's own providers.
 *
 * <p>Thread safety: parallel capable, as {@link URLClassLoader}.
 */
public final class PluginClassLoader extends URLClassLoader {
  static {
    ClassLoader.registerAsParallelCapable();
  }

  /**
   * Packages a plugin shares with the gateway (prefixes of binary class names). Everything else of
   * {@code io.tributary.core} and {@code io.tributary.gateway} is never loaded from a plugin.
   */
  public static final List<String> SHARED_PREFIXES =
      List.of(
          "io.tributary.core.api.",
          "io.tributary.core.checkpoint.",
          "org.slf4j.",
          "io.micrometer.core.",
          "io.micrometer.common.",
          "io.micrometer.observation.");

  private static final List<String> GATEWAY_ONLY_PREFIXES =
      List.of("io.tributary.core.", "io.tributary.gateway.");

  private final String pluginName;
  private final ClassLoader gateway;

  PluginClassLoader(String pluginName, URL[] jars, ClassLoader gateway) {
    super("tributary-plugin-" + pluginName, jars, ClassLoader.getPlatformClassLoader());
    this.pluginName = pluginName;
    this.gateway = gateway;
  }

  /** The plugin's name: its directory or jar file name. */
  public String pluginName() {
    return pluginName;
  }

  static boolean isShared(String className) {
    for (String p : SHARED_PREFIXES) {
      if (className.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isGatewayOnly(String className) {
    for (String p : GATEWAY_ONLY_PREFIXES) {
      if (className.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        c = loadUnloaded(name);
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  private Class<?> loadUnloaded(String name) throws ClassNotFoundException {
    if (name.startsWith("java.")) {
      return getParent().loadClass(name);
    }
    if (isShared(name)) {
      return gateway.loadClass(name);
    }
    try {
      return getParent().loadClass(name); // the JDK
    } catch (ClassNotFoundException notJdk) {
      // the plugin's own, below
    }
    if (isGatewayOnly(name)) {
      throw new ClassNotFoundException(
          name
              + " is not visible to plugin "
              + pluginName
              + ": plugins see only "
              + SHARED_PREFIXES
              + " of the gateway");
    }
    return findClass(name);
  }

  @Override
  public URL getResource(String name) {
    URL u = isSharedResource(name) ? gateway.getResource(name) : null;
    if (u == null) {
      u = findResource(name);
    }
    if (u == null) {
      u = getParent().getResource(name);
    }
    return u;
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    List<URL> out = new ArrayList<>();
    if (isSharedResource(name)) {
      out.addAll(Collections.list(gateway.getResources(name)));
    }
    out.addAll(Collections.list(findResources(name)));
    out.addAll(Collections.list(getParent().getResources(name)));
    return Collections.enumeration(out);
  }

  private static boolean isSharedResource(String name) {
    return name.endsWith(".class") && isShared(name.replace('/', '.'));
  }

  @Override
  public String toString() {
    return "PluginClassLoader[" + pluginName + "]";
  }
}
