/** Implementation of the {@code files-tail} source: file identities, scanning, line ranges. */
package io.tributary.connector.file.internal.tail;
