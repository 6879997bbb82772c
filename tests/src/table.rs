//! The table as `template.yaml` declares it, and creating it on DynamoDB Local.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value as Yaml;

use crate::SETUP_BUDGET;
use crate::template::{template, text};

/// The table's key schema and indexes, as the template declares them.
#[derive(Debug, Clone)]
pub struct TableSpec {
    attributes: Vec<AttributeDefinition>,
    keys: Vec<KeySchemaElement>,
    indexes: Vec<GlobalSecondaryIndex>,
    /// The TTL attribute, when time to live is enabled.
    pub ttl_attribute: Option<String>,
}

fn key_schema(value: &Yaml) -> Result<Vec<KeySchemaElement>> {
    value
        .as_sequence()
        .context("template: KeySchema must be a list")?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

impl TableSpec {
    /// Reads `Resources.Table.Properties` of the template.
    pub fn from_template() -> Result<Self> {
        let template = template()?;
        let table = &template["Resources"]["Table"];
        if text(table, "Type")? != "AWS::DynamoDB::Table" {
            bail!("template: Resources.Table is not a DynamoDB table");
        }
        let props = &table["Properties"];
        let attributes = props["AttributeDefinitions"]
            .as_sequence()
            .context("template: AttributeDefinitions")?
            .iter()
            .map(|a| {
                Ok(AttributeDefinition::builder()
                    .attribute_name(text(a, "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let indexes = props["GlobalSecondaryIndexes"]
            .as_sequence()
            .context("template: GlobalSecondaryIndexes")?
            .iter()
            .map(|index| {
                let projection = &index["Projection"];
                let non_key = projection["NonKeyAttributes"].as_sequence().map(|attrs| {
                    attrs
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                });
                Ok(GlobalSecondaryIndex::builder()
                    .index_name(text(index, "IndexName")?)
                    .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(text(
                                projection,
                                "ProjectionType",
                            )?))
                            .set_non_key_attributes(non_key)
                            .build(),
                    )
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let ttl = &props["TimeToLiveSpecification"];
        let ttl_attribute = (ttl["Enabled"].as_bool() == Some(true))
            .then(|| text(ttl, "AttributeName").map(str::to_owned))
            .transpose()?;
        Ok(Self {
            attributes,
            keys: key_schema(&props["KeySchema"])?,
            indexes,
            ttl_attribute,
        })
    }

    /// Each index's partition key attribute, by index name.
    pub fn index_partition_keys(&self) -> std::collections::HashMap<String, String> {
        self.indexes
            .iter()
            .filter_map(|index| {
                let hash = index
                    .key_schema()
                    .iter()
                    .find(|k| *k.key_type() == KeyType::Hash)?;
                Some((
                    index.index_name().to_owned(),
                    hash.attribute_name().to_owned(),
                ))
            })
            .collect()
    }

    /// Index names, in template order.
    pub fn index_names(&self) -> Vec<&str> {
        self.indexes.iter().map(|i| i.index_name()).collect()
    }

    /// Creates `name` with this definition, waits until it is active, then
    /// turns TTL on. A table of that name already there is taken to be this
    /// call's own (names are unique per test; `conduit-dev` checks first).
    pub async fn create(&self, client: &Client, name: &str) -> Result<()> {
        let created = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(self.attributes.clone()))
            .set_key_schema(Some(self.keys.clone()))
            .set_global_secondary_indexes(Some(self.indexes.clone()))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // The SDK resends a CreateTable whose answer it lost (a busy
            // emulator); the resend then finds the table its first attempt made.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(e).with_context(|| format!("creating table {name}")),
        }
        let deadline = std::time::Instant::now() + SETUP_BUDGET;
        loop {
            let described = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .with_context(|| format!("describing table {name}"))?;
            let active = described
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active {
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("table {name} did not become active within {SETUP_BUDGET:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some(attribute) = &self.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(true)
                        .build()?,
                )
                .send()
                .await
                .with_context(|| format!("enabling TTL on {name}"))?;
        }
        Ok(())
    }
}
