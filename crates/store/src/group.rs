//! Group commit: concurrent callers hand their writes to one transaction.
//!
//! Every write that must be serialised (SQLite's single writer, a number handed out in order,
//! the audit chain's head) costs a few round trips to the database while the others wait. When
//! many arrive at once, running them one transaction each makes every caller queue behind all
//! the others' round trips. A [`GroupCommit`] runs whatever has queued up as one batch: the
//! first caller to find the batch slot free takes every waiting item (up to a limit) and runs
//! them together, and the others receive their own results.
//!
//! The batch runs in a task of its own, so a caller that goes away (a client that hung up)
//! cancels neither the batch nor the other callers' results; an item whose caller has gone
//! before its batch started is dropped unrun.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Waiting<T, R> = Vec<(T, oneshot::Sender<R>)>;

pub(crate) struct GroupCommit<T, R> {
    queue: Mutex<Waiting<T, R>>,
    /// Held by the task running the current batch.
    running: Arc<tokio::sync::Mutex<()>>,
    limit: usize,
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Batches of at most `limit` items.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            running: Arc::new(tokio::sync::Mutex::new(())),
            limit: limit.max(1),
        }
    }

    /// Runs `item` in a batch: `run` receives the batch's items in the order they arrived and
    /// returns one result per item, in the same order. `None` when the batch failed to answer
    /// (it panicked).
    pub(crate) async fn submit<F, Fut>(&self, item: T, run: F) -> Option<R>
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (sender, mut receiver) = oneshot::channel();
        self.lock_queue().push((item, sender));
        loop {
            tokio::select! {
                biased;
                result = &mut receiver => return result.ok(),
                guard = self.running.clone().lock_owned() => {
                    let batch = self.take();
                    if batch.is_empty() {
                        // Our item is in a batch that has answered, or is answering.
                        drop(guard);
                        return receiver.await.ok();
                    }
                    let (items, senders): (Vec<T>, Vec<_>) = batch.into_iter().unzip();
                    let batch = run(items);
                    tokio::spawn(async move {
                        let results = batch.await;
                        for (sender, result) in senders.into_iter().zip(results) {
                            let _ = sender.send(result);
                        }
                        drop(guard);
                    });
                }
            }
        }
    }

    /// The next batch: the oldest waiting items whose callers still wait.
    fn take(&self) -> Waiting<T, R> {
        let mut queue = self.lock_queue();
        queue.retain(|(_, sender)| !sender.is_closed());
        let at = queue.len().min(self.limit);
        let rest = queue.split_off(at);
        std::mem::replace(&mut *queue, rest)
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Waiting<T, R>> {
        // The queue is only pushed to and split; a panic cannot leave it half-changed.
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_caller_gets_its_own_result_and_batches_form_under_load() {
        let group = Arc::new(GroupCommit::<usize, usize>::new(8));
        let batches = Arc::new(AtomicUsize::new(0));
        let largest = Arc::new(AtomicUsize::new(0));
        let callers = (0..100).map(|i| {
            let group = group.clone();
            let batches = batches.clone();
            let largest = largest.clone();
            tokio::spawn(async move {
                group
                    .submit(i, move |items: Vec<usize>| {
                        let batches = batches.clone();
                        let largest = largest.clone();
                        async move {
                            batches.fetch_add(1, Ordering::Relaxed);
                            largest.fetch_max(items.len(), Ordering::Relaxed);
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            items.into_iter().map(|n| n * 10).collect()
                        }
                    })
                    .await
            })
        });
        let callers: Vec<_> = callers.collect();
        for (i, caller) in callers.into_iter().enumerate() {
            assert_eq!(caller.await.unwrap(), Some(i * 10));
        }
        assert!(largest.load(Ordering::Relaxed) > 1, "no batch held more than one item");
        assert!(largest.load(Ordering::Relaxed) <= 8, "a batch exceeded the limit");
        assert!(batches.load(Ordering::Relaxed) < 100);
    }

    #[tokio::test]
    async fn a_caller_that_left_before_its_batch_is_not_run() {
        let group = Arc::new(GroupCommit::<usize, usize>::new(8));
        let ran = Arc::new(Mutex::new(Vec::new()));
        // Hold the batch slot so that the next caller waits in the queue.
        let slot = group.running.clone().lock_owned().await;
        let leaving = {
            let group = group.clone();
            let ran = ran.clone();
            tokio::spawn(async move {
                group
                    .submit(1, move |items: Vec<usize>| {
                        ran.lock().unwrap().extend(items.iter().copied());
                        async move { items }
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        while group.lock_queue().is_empty() {
            tokio::task::yield_now().await;
        }
        leaving.abort();
        let _ = leaving.await;
        drop(slot);
        let ran_too = ran.clone();
        let result = group
            .submit(2, move |items: Vec<usize>| {
                ran_too.lock().unwrap().extend(items.iter().copied());
                async move { items }
            })
            .await;
        assert_eq!(result, Some(2));
        assert_eq!(*ran.lock().unwrap(), vec![2]);
    }

    #[tokio::test]
    async fn a_panicking_batch_answers_none() {
        let group = GroupCommit::<usize, usize>::new(8);
        let result = group
            .submit(1, |items: Vec<usize>| async move {
                assert!(items.is_empty(), "the batch failed");
                items
            })
            .await;
        assert_eq!(result, None);
    }
}
