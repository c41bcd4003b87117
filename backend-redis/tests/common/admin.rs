//! A connection to each test server for `CLIENT` and `CONFIG` commands, for the tests
//! that close the store's connections under it.

use redis::FromRedisValue;
use redis::aio::MultiplexedConnection;

/// One connection per server, made before the store's connections are closed, so
/// that the closing ones are not among them.
pub struct Admin(Vec<MultiplexedConnection>);

impl Admin {
    /// Connects to each server in `urls`.
    pub async fn connect(urls: &[String]) -> Self {
        let mut conns = Vec::new();
        for url in urls {
            let client = redis::Client::open(url.as_str()).unwrap();
            conns.push(client.get_multiplexed_async_connection().await.unwrap());
        }
        Self(conns)
    }

    /// Runs the command `args` on each server; the replies, in the servers' order.
    async fn on_each<T: FromRedisValue>(&mut self, args: &[&str]) -> Vec<T> {
        let mut replies = Vec::new();
        for conn in &mut self.0 {
            replies.push(
                redis::cmd(args[0])
                    .arg(&args[1..])
                    .query_async(conn)
                    .await
                    .unwrap(),
            );
        }
        replies
    }

    /// Closes every normal client's connection on each server but the asking one's;
    /// how many it closed.
    pub async fn close_all(&mut self) -> usize {
        let kill = ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"];
        self.on_each::<usize>(&kill).await.into_iter().sum()
    }

    /// The normal clients connected to the servers, not counting the asking ones.
    pub async fn other_clients(&mut self) -> usize {
        let lists = self.on_each::<String>(&["CLIENT", "LIST", "TYPE", "normal"]);
        let lists = lists.await;
        lists
            .iter()
            .map(|list| list.lines().count().saturating_sub(1))
            .sum()
    }

    /// Sets the server parameter `name` to `value` on every server; its value before
    /// on each.
    pub async fn set_config(&mut self, name: &str, value: &str) -> Vec<String> {
        let before = self
            .on_each::<(String, String)>(&["CONFIG", "GET", name])
            .await;
        self.on_each::<()>(&["CONFIG", "SET", name, value]).await;
        before.into_iter().map(|(_, value)| value).collect()
    }

    /// Sets `name` on each server back to its value in `before` (as
    /// [`set_config`](Self::set_config) returned).
    pub async fn restore_config(&mut self, name: &str, before: &[String]) {
        for (conn, value) in self.0.iter_mut().zip(before) {
            let () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(name)
                .arg(value)
                .query_async(conn)
                .await
                .unwrap();
        }
    }
}
