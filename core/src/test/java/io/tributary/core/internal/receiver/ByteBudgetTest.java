package io.tributary.core.internal.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ReceiverStoppedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The bounded memory of receivers: FIFO admission, oversized requests, close. */
class ByteBudgetTest {
  @Test
  void admitsUpToCapacityThenQueuesInOrder() {
    ByteBudget budget = new ByteBudget(100);
    assertThat(budget.acquireAsync(60)).isDone();
    CompletableFuture<Void> big = budget.acquireAsync(50);
    CompletableFuture<Void> small =
        budget.acquireAsync(10); // would fit, but waits behind the first waiter (FIFO)
    assertThat(big).isNotDone();
    assertThat(small).isNotDone();
    budget.release(60);
    assertThat(big).isDone();
    assertThat(small).isDone();
    assertThat(budget.used()).isEqualTo(60);
  }

  @Test
  void requestLargerThanCapacityIsAdmittedWhenNothingElseIsHeld() {
    ByteBudget budget = new ByteBudget(100);
    CompletableFuture<Void> first = budget.acquireAsync(10);
    CompletableFuture<Void> huge = budget.acquireAsync(500);
    assertThat(first).isDone();
    assertThat(huge).isNotDone();
    budget.release(10);
    assertThat(huge).isDone();
    assertThat(budget.used()).isEqualTo(500);
  }

  @Test
  void closeFailsWaitersAndLaterRequestsUntilReopened() {
    ByteBudget budget = new ByteBudget(10);
    budget.acquireAsync(10);
    CompletableFuture<Void> waiting = budget.acquireAsync(5);
    budget.close("stopped for test");
    assertThatThrownBy(waiting::join)
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(ReceiverStoppedException.class)
        .hasMessageContaining("stopped for test");
    assertThatThrownBy(() -> budget.acquire(1)).isInstanceOf(ReceiverStoppedException.class);
    budget.reopen();
    budget.release(10);
    assertThat(budget.acquireAsync(5)).isDone();
  }

  @Test
  void interruptedAcquireGivesUpItsPlace() throws Exception {
    ByteBudget budget = new ByteBudget(10);
    budget.acquireAsync(10);
    Thread t =
        new Thread(
            () -> {
              try {
                budget.acquire(5);
              } catch (InterruptedException expected) {
                Thread.currentThread().interrupt();
              }
            });
    t.start();
    org.awaitility.Awaitility.await().until(() -> t.getState() == Thread.State.WAITING);
    t.interrupt();
    t.join();
    budget.release(10);
    assertThat(budget.used()).isZero(); // the cancelled request took nothing
    assertThat(budget.acquireAsync(10)).isDone();
  }
}
