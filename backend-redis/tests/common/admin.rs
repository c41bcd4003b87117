//! A connection to each test server for `CLIENT` and `CONFIG` commands, for the tests
//! that close the store's connections under it.

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

    /// Closes every normal client's connection on each server but the asking one's;
    /// how many it closed.
    pub async fn close_all(&mut self) -> usize {
        let mut closed = 0;
        for conn in &mut self.0 {
            let n: usize = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("normal")
                .arg("SKIPME")
                .arg("yes")
                .query_async(conn)
                .await
                .unwrap();
            closed += n;
        }
        closed
    }

    /// The normal clients connected to the servers, not counting the asking ones.
    pub async fn other_clients(&mut self) -> usize {
        let mut count = 0;
        for conn in &mut self.0 {
            let list: String = redis::cmd("CLIENT")
                .arg("LIST")
                .arg("TYPE")
                .arg("normal")
                .query_async(conn)
                .await
                .unwrap();
            count += list.lines().count().saturating_sub(1);
        }
        count
    }

    /// Sets the server parameter `name` to `value` on every server; its value before
    /// on each.
    pub async fn set_config(&mut self, name: &str, value: &str) -> Vec<String> {
        let mut before = Vec::new();
        for conn in &mut self.0 {
            let (_, old): (String, String) = redis::cmd("CONFIG")
                .arg("GET")
                .arg(name)
                .query_async(conn)
                .await
                .unwrap();
            let () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(name)
                .arg(value)
                .query_async(conn)
                .await
                .unwrap();
            before.push(old);
        }
        before
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
