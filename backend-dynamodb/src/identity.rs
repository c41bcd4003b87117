//! What a store's data is called, for the cursors of `query` and `scan`: a cursor
//! made on one table is refused by a store on another (contract R17, R18).

use crate::DynamoDbStore;

impl DynamoDbStore {
    /// The table's name and the client's region: on DynamoDB, a table is named by
    /// its account, region and name. Two stores on one table answer the same. Neither
    /// the account (learning it takes a request) nor an endpoint set on the client
    /// (the SDK's `Config` does not expose it) is part of it, so tables of one name and
    /// region in two accounts, or on two local servers, answer the same too: a cursor
    /// taken from one to the other is not refused, and continues at its position.
    pub(crate) fn data_identity(&self) -> String {
        let region = self
            .client()
            .config()
            .region()
            .map_or("no region", |region| region.as_ref());
        format!("table {} in {region}", self.table())
    }
}

#[cfg(test)]
#[allow(clippy::panic)] // tests fail by panicking
mod tests {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Config, Region};

    use crate::DynamoDbStore;
    use crate::TableDescription;

    fn store(table: &str, region: Option<&str>) -> DynamoDbStore {
        let mut config = Config::builder().behavior_version(BehaviorVersion::latest());
        if let Some(region) = region {
            config = config.region(Region::new(region.to_string()));
        }
        let client = aws_sdk_dynamodb::Client::from_conf(config.build());
        DynamoDbStore::builder(client, TableDescription::new(table, "pk"))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_table_and_region_name_the_data() {
        let orders = store("orders", Some("eu-west-1"));
        assert_eq!(orders.data_identity(), "table orders in eu-west-1");
        assert_eq!(
            store("orders", Some("eu-west-1")).data_identity(),
            orders.data_identity()
        );
        assert_ne!(
            store("orders", Some("us-east-1")).data_identity(),
            orders.data_identity()
        );
        assert_ne!(
            store("invoices", Some("eu-west-1")).data_identity(),
            orders.data_identity()
        );
        assert_eq!(
            store("orders", None).data_identity(),
            "table orders in no region"
        );
    }
}
