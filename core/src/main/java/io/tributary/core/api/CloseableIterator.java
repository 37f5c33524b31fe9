package io.tributary.core.api;

import java.util.Iterator;
import java.util.List;

/**
 * An iterator over records that holds resources (a file handle, a consumer) until it is closed.
 *
 * <p>Thread safety: not thread-safe; used by one thread.
 */
public interface CloseableIterator<T> extends Iterator<T>, AutoCloseable {
  /** Releases resources. Safe to call twice. Does not throw checked exceptions. */
  @Override
  void close();

  /** Wraps an in-memory list. */
  static <T> CloseableIterator<T> of(List<T> items) {
    Iterator<T> it = items.iterator();
    return new CloseableIterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public T next() {
        return it.next();
      }

      @Override
      public void close() {}
    };
  }
}
