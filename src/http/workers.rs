//! The threads that serve connections: each runs a single-threaded tokio runtime and serves whole
//! connections from accept to close, in the manner of actix-web's workers and of thread-per-core servers.
//! There is one more worker than cores by default, so that a worker the OS preempts (for the writer thread,
//! or anything else on the machine) does not leave a core without one.
//!
//! The accept loop runs on the main runtime and hands each accepted connection to the worker that serves
//! the fewest. A connection, its requests, and the reads that run inline (`store::readers`) then stay on
//! one thread: no task moves between threads, and no worker wakes another to steal. Against tokio's
//! multi-threaded scheduler serving the same connections, lookups on 100,000 users went from 50,500 to
//! 61,300 requests/s on two cores (ARCHITECTURE.md, Durability and concurrency).
//!
//! What may take long does not run on a worker: reads that may be long go to the worker's blocking pool
//! (`Readers::read_long`), writes to the writer thread, argon2 and the applying of a user PATCH to the
//! blocking pool.
//!
//! Dropping [`Workers`] (or [`Workers::stop`]) ends every worker: tasks still running on one are dropped,
//! which is why the server stops them only after its connections are done or past the shutdown bound.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// The connection-serving threads.
#[derive(Debug)]
pub struct Workers {
    workers: Vec<Worker>,
    next: AtomicUsize,
}

#[derive(Debug)]
struct Worker {
    handle: Handle,
    /// Connections this worker serves now.
    load: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A connection's place on its worker; dropping it counts the connection as done.
#[derive(Debug)]
struct Served(Arc<AtomicUsize>);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Workers {
    /// Starts `count` workers (at least one), named `scimbox-http-N`, and returns once each is running.
    pub fn start(count: usize) -> io::Result<Workers> {
        let count = count.max(1);
        let mut workers = Workers { workers: Vec::with_capacity(count), next: AtomicUsize::new(0) };
        let (running, started) = std::sync::mpsc::channel::<()>();
        for index in 0..count {
            // The name is that of the threads of its blocking pool (the worker's own is set below), as
            // the main runtime names its threads.
            let runtime = Builder::new_current_thread().enable_all().thread_name("scimbox").build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            let running = running.clone();
            let thread = std::thread::Builder::new().name(format!("scimbox-http-{index}")).spawn(move || {
                // The thread has its name from here on; what is spawned meanwhile waits for `block_on`.
                // Its inline reads run on a connection of its own (closed as the thread ends, which is
                // before the store closes: `Server` stops the workers first).
                crate::store::keep_own_reader_on_this_thread();
                let _ = running.send(());
                drop(running);
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
            workers.workers.push(Worker { handle, load: Arc::default(), stop: Some(stop), thread: Some(thread) });
        }
        drop(running);
        for _ in 0..count {
            // Each thread sends once and drops its sender: an error here means one ended without starting.
            started.recv().map_err(|_| io::Error::other("a connection worker ended as it started"))?;
        }
        Ok(workers)
    }

    /// How many workers serve when the configuration does not say: one more than the cores this process
    /// may use, so that while the writer thread (or anything else on the machine) has a core, the others
    /// still each have a worker to run (measured in ARCHITECTURE.md).
    pub fn default_count() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get()) + 1
    }

    /// Runs `serve` (one connection, from accept to close) on the worker that serves the fewest
    /// connections, taking turns among equals; the worker counts it until it ends.
    pub fn spawn(&self, serve: impl Future<Output = ()> + Send + 'static) {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.workers.len();
        let worker = (0..count)
            .map(|offset| &self.workers[(start + offset) % count])
            .min_by_key(|worker| worker.load.load(Ordering::Relaxed))
            .expect("at least one worker");
        worker.load.fetch_add(1, Ordering::Relaxed);
        let served = Served(Arc::clone(&worker.load));
        worker.handle.spawn(async move {
            let _served = served;
            serve.await;
        });
    }

    /// Connections each worker serves now, in worker order.
    #[cfg(test)]
    pub fn loads(&self) -> Vec<usize> {
        self.workers.iter().map(|worker| worker.load.load(Ordering::Relaxed)).collect()
    }

    /// Ends every worker and waits for its thread.
    pub fn stop(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        for worker in &mut self.workers {
            if let Some(stop) = worker.stop.take() {
                let _ = stop.send(());
            }
        }
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop_all();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Waits until `loads` is what `want` says (the marks are dropped on the workers' threads).
    fn wait_for(workers: &Workers, want: &[usize]) {
        for _ in 0..500 {
            if workers.loads() == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(workers.loads(), want);
    }

    /// Starts a connection-like task that reports the thread it runs on when it starts and again after
    /// `end` fires and it has yielded once.
    fn connection(
        workers: &Workers,
        threads: &std::sync::mpsc::Sender<(usize, String)>,
        id: usize,
    ) -> oneshot::Sender<()> {
        let (end, ended) = oneshot::channel::<()>();
        let threads = threads.clone();
        let thread = || std::thread::current().name().unwrap_or_default().to_owned();
        workers.spawn(async move {
            threads.send((id, thread())).unwrap();
            let _ = ended.await;
            tokio::task::yield_now().await;
            threads.send((id, thread())).unwrap();
        });
        end
    }

    #[test]
    fn a_connection_goes_to_the_worker_serving_fewest_and_stays_on_its_thread() {
        let workers = Workers::start(3).unwrap();
        let (threads, reports) = std::sync::mpsc::channel();
        let next = || reports.recv_timeout(Duration::from_secs(5)).unwrap();
        let mut ends: Vec<_> = (0..4).map(|id| Some(connection(&workers, &threads, id))).collect();
        let mut started: Vec<(usize, String)> = (0..4).map(|_| next()).collect();
        started.sort();
        let names = ["scimbox-http-0", "scimbox-http-1", "scimbox-http-2", "scimbox-http-0"];
        assert_eq!(started, names.iter().enumerate().map(|(id, name)| (id, (*name).to_owned())).collect::<Vec<_>>());
        assert_eq!(workers.loads(), [2, 1, 1]);

        // The third connection (worker 2) ends. The next one goes there, where turns alone would give
        // worker 1.
        ends[2].take().unwrap().send(()).unwrap();
        assert_eq!(next(), (2, "scimbox-http-2".to_owned()), "a connection ends on the thread it started on");
        wait_for(&workers, &[2, 1, 0]);
        ends.push(Some(connection(&workers, &threads, 4)));
        assert_eq!(next(), (4, "scimbox-http-2".to_owned()));
        assert_eq!(workers.loads(), [2, 1, 1]);

        for (id, end) in ends.into_iter().enumerate() {
            if let Some(end) = end {
                end.send(()).unwrap();
                assert_eq!(next(), (id, names.get(id).copied().unwrap_or("scimbox-http-2").to_owned()));
            }
        }
        wait_for(&workers, &[0, 0, 0]);
    }

    #[test]
    fn stopping_drops_what_runs_on_the_workers_and_ends_their_threads() {
        let workers = Workers::start(2).unwrap();
        let (dropped, was_dropped) = std::sync::mpsc::channel::<()>();
        struct Guard(std::sync::mpsc::Sender<()>);
        impl Drop for Guard {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        for _ in 0..2 {
            let guard = Guard(dropped.clone());
            workers.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        assert_eq!(workers.loads(), [1, 1]);
        workers.stop();
        // `stop` returned, so both threads were joined; each pending task was dropped on the way.
        was_dropped.recv_timeout(Duration::from_secs(1)).unwrap();
        was_dropped.recv_timeout(Duration::from_secs(1)).unwrap();
    }
}
