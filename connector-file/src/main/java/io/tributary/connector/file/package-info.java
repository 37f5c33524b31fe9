/**
 * New-file monitoring on any Hadoop-compatible file system (local, HDFS, S3 through s3a),
 * exactly-once by making the files of a batch that batch's plan; rolling file sink and checkpoint
 * storage on HDFS and S3.
 */
package io.tributary.connector.file;
