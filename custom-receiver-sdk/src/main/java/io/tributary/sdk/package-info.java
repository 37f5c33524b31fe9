/**
 * What a receiver author extends: {@link io.tributary.sdk.PollingReceiver} for sources you fetch
 * from, {@link io.tributary.sdk.PushReceiver} for sources that call you. Both store reliably before
 * acknowledging, own their threads, and surface failures by restarting. Test them with {@code
 * io.tributary.sdk.testkit}; see {@code io.tributary.sdk.example} for a complete receiver and the
 * module README for shipping it.
 */
package io.tributary.sdk;
