/**
 * The part of connector-flume that runs inside a Flume agent (the {@code tributary-flume-sink}
 * jar): {@link io.tributary.connector.flume.agent.TributarySink} and the {@link
 * io.tributary.connector.flume.agent.PullProtocol} it serves to Tributary's pull-mode poller.
 */
package io.tributary.connector.flume.agent;
