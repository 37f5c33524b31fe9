/**
 * JUnit 5 extensions that start real servers for tests on 127.0.0.1: {@link
 * io.tributary.connector.file.testing.MiniHdfsExtension} (a MiniDFSCluster) and {@link
 * io.tributary.connector.file.testing.S3ServerExtension} (s3proxy in a child JVM). One server per
 * test run.
 */
package io.tributary.connector.file.testing;
