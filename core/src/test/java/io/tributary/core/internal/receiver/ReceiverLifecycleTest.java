package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.internal.receiver.ReceiverLifecycle.State;
import org.junit.jupiter.api.Test;

class ReceiverLifecycleTest {
  @Test
  void startRestartAndStopFollowTheLegalPath() {
    ReceiverLifecycle l = new ReceiverLifecycle();
    assertThat(l.get()).isEqualTo(State.NEW);
    assertThat(l.moveTo(State.NEW, State.STARTING)).isTrue();
    assertThat(l.moveTo(State.STARTING, State.RUNNING)).isTrue();
    assertThat(l.moveTo(State.RUNNING, State.RESTARTING)).isTrue();
    assertThat(l.moveTo(State.RESTARTING, State.BACKING_OFF)).isTrue();
    assertThat(l.moveTo(State.BACKING_OFF, State.STARTING)).isTrue();
    assertThat(l.moveTo(State.STARTING, State.STOPPING)).isTrue();
    assertThat(l.moveTo(State.STOPPING, State.STOPPED)).isTrue();
    assertThat(l.moveToIfLegal(State.CLOSED)).isEqualTo(State.STOPPED);
    assertThat(l.get()).isEqualTo(State.CLOSED);
  }

  @Test
  void illegalTransitionsAreRefused() {
    ReceiverLifecycle l = new ReceiverLifecycle();
    assertThatThrownBy(() -> l.moveTo(State.NEW, State.RUNNING))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Illegal receiver lifecycle transition NEW -> RUNNING");
    assertThatThrownBy(() -> l.moveTo(State.STOPPED, State.STARTING))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> l.moveTo(State.BACKING_OFF, State.RUNNING))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> l.moveTo(State.RUNNING, State.STARTING))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> l.moveTo(State.STOPPING, State.BACKING_OFF))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> l.moveTo(State.CLOSED, State.STOPPED))
        .isInstanceOf(IllegalStateException.class);
    assertThat(l.get()).isEqualTo(State.NEW);
  }

  @Test
  void noStateLeavesClosedAndOnlyClosedLeavesStopped() {
    for (State s : State.values()) {
      assertThat(State.CLOSED.canMoveTo(s)).as("CLOSED -> %s", s).isFalse();
      assertThat(State.STOPPED.canMoveTo(s)).as("STOPPED -> %s", s).isEqualTo(s == State.CLOSED);
      assertThat(s.canMoveTo(State.CLOSED)).as("%s -> CLOSED", s).isEqualTo(s != State.CLOSED);
    }
    ReceiverLifecycle l = new ReceiverLifecycle();
    l.moveTo(State.NEW, State.STOPPED);
    assertThat(l.moveToIfLegal(State.STARTING))
        .as("a stopped receiver is never started again")
        .isNull();
  }

  @Test
  void aLostRaceReturnsFalseInsteadOfOverwriting() {
    ReceiverLifecycle l = new ReceiverLifecycle();
    l.moveTo(State.NEW, State.STARTING);
    l.moveTo(State.STARTING, State.STOPPING); // the receiver called stop() during onStart

    assertThat(l.moveTo(State.STARTING, State.RUNNING)).isFalse();
    assertThat(l.get()).isEqualTo(State.STOPPING);
    assertThat(State.STOPPING.accepting()).isFalse();
    assertThat(State.RESTARTING.accepting()).isTrue();
  }
}
