//! The functions' DynamoDB grants as `template.yaml` writes them, and IAM's
//! answer to an access. Only the forms the template uses are read; any other
//! (a Deny, another condition, another resource) fails loudly, so the check
//! is never quietly more lenient than IAM.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde_yaml::Value as Yaml;

use super::{Access, Resource};

/// What a statement's Resource names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Granted {
    /// `!GetAtt Table.Arn`.
    Table,
    /// `!Sub "${Table.Arn}/index/NAME"`.
    Index(String),
    /// `!Sub "${Table.Arn}/index/*"`.
    AnyIndex,
}

impl Granted {
    fn covers(&self, resource: &Resource) -> bool {
        match (self, resource) {
            (Granted::Table, Resource::Table) => true,
            (Granted::Index(name), Resource::Index(asked)) => name == asked,
            (Granted::AnyIndex, Resource::Index(_)) => true,
            _ => false,
        }
    }
}

/// One Allow statement's DynamoDB part.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `GetItem`, `Query`, … (without `dynamodb:`).
    pub actions: Vec<String>,
    /// What it may touch.
    pub resources: Vec<Granted>,
    /// `ForAllValues:StringLike` patterns of `dynamodb:LeadingKeys` (or
    /// `StringEquals` values, which have no wildcards); `None` when the
    /// statement has no condition.
    pub leading_keys: Option<Vec<String>>,
}

/// One grant: an action on a resource, within one leading-key pattern when
/// its statement has a condition. What "every grant is used" counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The function's binary name.
    pub function: String,
    /// `GetItem`, …
    pub action: String,
    /// Its resource.
    pub resource: Granted,
    /// The leading-key pattern, if any.
    pub pattern: Option<String>,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resource = match &self.resource {
            Granted::Table => "table".to_owned(),
            Granted::Index(name) => format!("index/{name}"),
            Granted::AnyIndex => "index/*".to_owned(),
        };
        write!(f, "{} dynamodb:{} {resource}", self.function, self.action)?;
        if let Some(pattern) = &self.pattern {
            write!(f, " {pattern}")?;
        }
        Ok(())
    }
}

/// Every function's DynamoDB statements, by binary name.
#[derive(Debug)]
pub struct Policies(pub BTreeMap<String, Vec<Statement>>);

impl Policies {
    /// The policies of `template`.
    pub fn from_template(template: &Yaml) -> Result<Self> {
        let mut functions = BTreeMap::new();
        for (function, logical_id, resource) in crate::routes::functions(template)? {
            let mut statements = Vec::new();
            for policy in resource["Properties"]["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                for statement in policy["Statement"]
                    .as_sequence()
                    .with_context(|| format!("{logical_id}: a policy without Statement"))?
                {
                    if let Some(statement) = parse_statement(statement)
                        .with_context(|| format!("{logical_id}: {statement:?}"))?
                    {
                        statements.push(statement);
                    }
                }
            }
            functions.insert(function, statements);
        }
        Ok(Self(functions))
    }

    /// The grants that allow `access` by `function`: empty when IAM would
    /// refuse it. A statement with a condition allows it only when every
    /// leading key matches one of its patterns (`ForAllValues`); the grants
    /// returned are the patterns that matched.
    pub fn allowing(&self, function: &str, access: &Access) -> Vec<Grant> {
        let mut grants = Vec::new();
        for statement in self.0.get(function).into_iter().flatten() {
            if !statement.actions.iter().any(|a| a == access.action) {
                continue;
            }
            let Some(resource) = statement
                .resources
                .iter()
                .find(|r| r.covers(&access.resource))
            else {
                continue;
            };
            let grant = |pattern: Option<&String>| Grant {
                function: function.to_owned(),
                action: access.action.to_owned(),
                resource: resource.clone(),
                pattern: pattern.cloned(),
            };
            match &statement.leading_keys {
                None => grants.push(grant(None)),
                Some(patterns) => {
                    let matched: Option<Vec<&String>> = access
                        .leading_keys
                        .iter()
                        .map(|key| patterns.iter().find(|p| string_like(p, key)))
                        .collect();
                    if let Some(matched) = matched {
                        grants.extend(matched.into_iter().map(|p| grant(Some(p))));
                    }
                }
            }
        }
        grants.sort();
        grants.dedup();
        grants
    }

    /// Every grant of every function.
    pub fn grants(&self) -> Vec<Grant> {
        let mut grants = Vec::new();
        for (function, statements) in &self.0 {
            for statement in statements {
                for action in &statement.actions {
                    for resource in &statement.resources {
                        let patterns: Vec<Option<String>> = match &statement.leading_keys {
                            None => vec![None],
                            Some(patterns) => patterns.iter().cloned().map(Some).collect(),
                        };
                        for pattern in patterns {
                            grants.push(Grant {
                                function: function.clone(),
                                action: action.clone(),
                                resource: resource.clone(),
                                pattern,
                            });
                        }
                    }
                }
            }
        }
        grants
    }
}

fn strings(value: &Yaml) -> Vec<&Yaml> {
    match value {
        Yaml::Sequence(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// A statement's DynamoDB part; `None` when it grants no DynamoDB action.
fn parse_statement(statement: &Yaml) -> Result<Option<Statement>> {
    if statement["Effect"].as_str() != Some("Allow") {
        bail!("only Allow statements are read");
    }
    let mut actions = Vec::new();
    for action in strings(&statement["Action"]) {
        let action = action.as_str().context("an Action is a string")?;
        if let Some(action) = action.strip_prefix("dynamodb:") {
            actions.push(action.to_owned());
        }
    }
    if actions.is_empty() {
        return Ok(None);
    }
    let mut resources = Vec::new();
    for resource in strings(&statement["Resource"]) {
        resources.push(parse_resource(resource)?);
    }
    let leading_keys = match &statement["Condition"] {
        Yaml::Null => None,
        Yaml::Mapping(condition) => {
            let [(operator, keys)] = condition.iter().collect::<Vec<_>>()[..] else {
                bail!("one condition operator, ForAllValues:StringLike, is read");
            };
            let keys = keys.as_mapping().context("condition keys")?;
            let exact = match operator.as_str() {
                Some("ForAllValues:StringLike") => false,
                Some("ForAllValues:StringEquals") => true,
                _ => bail!("only ForAllValues:StringLike or StringEquals is read"),
            };
            if keys.len() != 1 {
                bail!("only dynamodb:LeadingKeys is read");
            }
            let patterns = keys
                .get("dynamodb:LeadingKeys")
                .context("only dynamodb:LeadingKeys is read")?;
            // IAM evaluates LeadingKeys on a table's partition key; what it
            // means for an index query is not something to guess.
            if resources.iter().any(|r| *r != Granted::Table) {
                bail!("a LeadingKeys condition on an index resource");
            }
            let patterns = strings(patterns)
                .into_iter()
                .map(|p| p.as_str().map(str::to_owned).context("a pattern string"))
                .collect::<Result<Vec<String>>>()?;
            // Without wildcards, StringLike is StringEquals.
            if exact && patterns.iter().any(|p| p.contains(['*', '?'])) {
                bail!(
                    "StringEquals patterns with * or ?, which StringLike would read as wildcards"
                );
            }
            Some(patterns)
        }
        other => bail!("a Condition that is not a mapping: {other:?}"),
    };
    Ok(Some(Statement {
        actions,
        resources,
        leading_keys,
    }))
}

fn parse_resource(resource: &Yaml) -> Result<Granted> {
    let Yaml::Tagged(tagged) = resource else {
        bail!("a DynamoDB resource that is no !GetAtt or !Sub: {resource:?}");
    };
    let (get_att, sub) = (tagged.tag == "GetAtt", tagged.tag == "Sub");
    match tagged.value.as_str() {
        Some("Table.Arn") if get_att => Ok(Granted::Table),
        Some(sub_text) if sub => match sub_text.strip_prefix("${Table.Arn}/index/") {
            Some("*") => Ok(Granted::AnyIndex),
            Some(name) if !name.contains(['*', '?', '$', '/']) => {
                Ok(Granted::Index(name.to_owned()))
            }
            _ => bail!("a resource other than the table or one of its indexes: {sub_text}"),
        },
        _ => bail!("a resource other than the table or one of its indexes: {resource:?}"),
    }
}

/// IAM's `StringLike`: `*` matches any run of characters, `?` any one.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_matches_as_iam_does() {
        assert!(string_like("USER#*", "USER#1"));
        assert!(string_like("USER#*", "USER#"));
        assert!(!string_like("USER#*", "USERNAME#a"));
        assert!(string_like("WARMUP", "WARMUP"));
        assert!(!string_like("WARMUP", "WARMUPS"));
        assert!(string_like("A?C*", "ABCDE"));
        assert!(string_like("*#FAV#*", "ARTICLE#1#FAV#2"));
        assert!(!string_like("*#FAV#*", "ARTICLE#1"));
    }

    fn policies(yaml: &str) -> Policies {
        let template: Yaml = serde_yaml::from_str(yaml).unwrap();
        Policies::from_template(&template).unwrap()
    }

    const TEMPLATE: &str = r#"
Resources:
  LoginFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, secretsmanager:GetSecretValue]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["USER#*", "LOGIN#*"]
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${Table.Arn}/index/GSI1"
"#;

    #[test]
    fn an_access_is_allowed_only_when_every_leading_key_matches() {
        let policies = policies(TEMPLATE);
        let get = |keys: &[&str]| Access {
            action: "GetItem",
            resource: Resource::Table,
            leading_keys: keys.iter().map(|k| k.to_string()).collect(),
        };
        assert_eq!(policies.allowing("login", &get(&["USER#1"])).len(), 1);
        assert_eq!(
            policies
                .allowing("login", &get(&["USER#1", "LOGIN#a"]))
                .len(),
            2
        );
        assert!(
            policies
                .allowing("login", &get(&["USER#1", "CLIENT#x"]))
                .is_empty()
        );
        assert!(policies.allowing("register", &get(&["USER#1"])).is_empty());
    }

    #[test]
    fn an_index_grant_covers_that_index_only_and_not_the_table() {
        let policies = policies(TEMPLATE);
        let query = |resource| Access {
            action: "Query",
            resource,
            leading_keys: vec!["TAGS".into()],
        };
        assert_eq!(
            policies
                .allowing("login", &query(Resource::Index("GSI1".into())))
                .len(),
            1
        );
        assert!(
            policies
                .allowing("login", &query(Resource::Index("GSI2".into())))
                .is_empty()
        );
        assert!(
            policies
                .allowing("login", &query(Resource::Table))
                .is_empty()
        );
    }

    #[test]
    fn forms_the_checker_cannot_evaluate_are_refused() {
        for statement in [
            "{Effect: Deny, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn}",
            "{Effect: Allow, Action: dynamodb:GetItem, Resource: '*'}",
            "{Effect: Allow, Action: dynamodb:Query, Resource: !Sub '${Table.Arn}/index/GSI1', Condition: {ForAllValues:StringLike: {dynamodb:LeadingKeys: [A]}}}",
            "{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn, Condition: {StringEquals: {dynamodb:LeadingKeys: [A]}}}",
            "{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn, Condition: {ForAllValues:StringEquals: {dynamodb:LeadingKeys: [A*]}}}",
        ] {
            let yaml: Yaml = serde_yaml::from_str(statement).unwrap();
            assert!(parse_statement(&yaml).is_err(), "{statement}");
        }
    }
}
