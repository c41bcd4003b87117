//! The typed layer on a table keyed on `id` whose version attribute is `version`: a
//! `Book { id, title, authors, version }` is the item `{id, title, authors, version}`,
//! the key and the version native attributes, not copies inside the document, so
//! other DynamoDB clients (boto3, the console) see the shape they expect; next to them
//! only the store's own write token (`optimist_token`). The typed
//! layer's contract cases run on every backend in tests/conformance.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use optimist_core::typed::{Context, Entity};
use optimist_dynamodb::{DynamoDbStore, TableDescription, create_table};
use serde::{Deserialize, Serialize};

#[derive(Entity, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Book {
    #[entity(partition_key)]
    id: u64,
    title: String,
    authors: Vec<String>,
    #[entity(version)]
    version: Option<u64>,
}

#[tokio::test]
async fn a_book_is_the_item_id_title_authors_version() {
    let client = match common::client() {
        Ok(client) => client,
        Err(why) => return common::unavailable("a_book_is_the_item_id_title_authors_version", why),
    };
    let fields = Book::FIELDS;
    let table = TableDescription::new(common::unique_table("books"), fields.partition)
        .with_version_attribute(fields.version);
    let name = table.name().to_owned();
    create_table(&client, &table)
        .await
        .expect("create the table");
    let store = DynamoDbStore::connect(client.clone(), table)
        .await
        .expect("connect to the table");
    let ctx = Context::new(store);

    let mut book = Book {
        id: 111,
        title: "Dune".into(),
        authors: vec!["Frank Herbert".into()],
        version: None,
    };
    ctx.save(&mut book).await.unwrap();
    ctx.save(&mut book).await.unwrap();

    let item = client
        .get_item()
        .table_name(name)
        .key("id", AttributeValue::S("111".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the raw item")
        .item
        .expect("the item exists");
    let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["authors", "id", "optimist_token", "title", "version"]
    );
    assert_eq!(item["title"], AttributeValue::S("Dune".into()));
    assert_eq!(
        item["authors"],
        AttributeValue::L(vec![AttributeValue::S("Frank Herbert".into())])
    );
    assert_eq!(item["version"], AttributeValue::N("2".into()));
    assert_eq!(ctx.load::<Book>(111u64).await.unwrap(), Some(book));
}
