//! `redis+cluster://` URLs: a Redis Cluster named by one or more of its nodes, in one
//! URL (`redis+cluster://[user][:password@]host:port[,host:port…][?…]`), read into
//! the `redis://` URL of each node, as the cluster client takes them.

/// The schemes of a cluster URL, and the scheme each node's URL gets.
const SCHEMES: [(&str, &str); 2] = [("redis+cluster", "redis"), ("rediss+cluster", "rediss")];

/// Whether `url` names a Redis Cluster (`redis+cluster://`, `rediss+cluster://`).
pub(crate) fn is_cluster(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.iter().any(|(cluster, _)| *cluster == scheme))
}

/// The URL of each node a cluster URL names, with its user information, driver
/// parameters and fragment; `None` when `url` is not a cluster URL or names no node.
/// The user information ends at the last `@`, as everywhere in this crate.
pub(crate) fn nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let (_, node_scheme) = SCHEMES.iter().find(|(cluster, _)| *cluster == scheme)?;
    let (user, hosts_and_rest) = match rest.rfind('@') {
        Some(at) => (&rest[..=at], &rest[at + 1..]),
        None => ("", rest),
    };
    let end = hosts_and_rest
        .find(['/', '?', '#'])
        .unwrap_or(hosts_and_rest.len());
    let (hosts, tail) = hosts_and_rest.split_at(end);
    // A path (a database) means nothing to a cluster, which has only database 0.
    let tail = tail.trim_start_matches('/');
    let tail = if tail.is_empty() || tail.starts_with(['?', '#']) {
        tail.to_string()
    } else {
        return None;
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .filter(|host| !host.is_empty())
        .map(|host| format!("{node_scheme}://{user}{host}{tail}"))
        .collect();
    (!nodes.is_empty()).then_some(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_gets_the_user_and_the_parameters() {
        assert_eq!(
            nodes("redis+cluster://:pw@a:1,b:2?protocol=resp3"),
            Some(vec![
                "redis://:pw@a:1?protocol=resp3".to_string(),
                "redis://:pw@b:2?protocol=resp3".to_string(),
            ])
        );
        assert_eq!(
            nodes("rediss+cluster://h:7000/#insecure"),
            Some(vec!["rediss://h:7000#insecure".to_string()])
        );
        assert_eq!(nodes("redis+cluster://h:1/3"), None);
        assert_eq!(nodes("redis+cluster://"), None);
        assert_eq!(nodes("redis://h:1"), None);
        assert!(is_cluster("redis+cluster://h:1") && !is_cluster("redis://h:1"));
    }
}
