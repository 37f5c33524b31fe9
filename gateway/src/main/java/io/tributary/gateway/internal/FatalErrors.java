package io.tributary.gateway.internal;

/**
 * Ends the gateway process when a JVM {@link Error} (an {@link OutOfMemoryError}, a {@link
 * StackOverflowError}, any Error) escapes a thread: the core runtime records it as the pipeline's
 * failure and rethrows it to the thread's uncaught-exception handler. The JVM may be unusable after
 * such an error (a graceful stop of the other pipelines could itself run out of memory or hang), so
 * the process logs one line and halts at once with the exit code for a failed pipeline; every
 * pipeline resumes from its checkpoint at the next start, as after a crash.
 *
 * <p>Thread safety: {@link #install} once, from the main thread, before pipelines start.
 */
public final class FatalErrors {
  private FatalErrors() {}

  /** Installs the default uncaught-exception handler that halts with {@code exitCode} on Error. */
  public static void install(int exitCode) {
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> {
          if (!(e instanceof Error)) {
            if (previous != null) {
              previous.uncaughtException(thread, e);
            } else {
              System.err.print("Exception in thread \"" + thread.getName() + "\" ");
              e.printStackTrace();
            }
            return;
          }
          try {
            // Plain stderr first: it needs no allocation-heavy logging machinery.
            System.err.println(
                "tributary: event=fatal_error thread="
                    + thread.getName()
                    + " error=\""
                    + e
                    + "\" action=\"exit "
                    + exitCode
                    + " now; pipelines resume from their checkpoints at the next start\"");
            org.slf4j.LoggerFactory.getLogger(FatalErrors.class)
                .error(
                    "event=fatal_error thread={} error=\"{}\" action=exit exit_code={}",
                    thread.getName(),
                    e.toString(),
                    exitCode,
                    e);
          } catch (Throwable ignored) {
            // out of memory while logging: exit all the same
          } finally {
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(exitCode);
          }
        });
  }
}
