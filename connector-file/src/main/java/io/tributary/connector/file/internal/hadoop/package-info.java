/**
 * Implementation detail shared by the file source, sinks and checkpoint storage: Hadoop {@code
 * Configuration} from {@code hadoop.*} options, uncached file systems, atomic rename, redaction of
 * secrets. Not for users.
 */
package io.tributary.connector.file.internal.hadoop;
