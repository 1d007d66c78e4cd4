//! Validated, quoted SQL identifiers for names that come from configuration.
//!
//! Table and column names cannot be bound as parameters, so they are spliced into
//! SQL text; only names matching `^[A-Za-z_][A-Za-z0-9_]{0,62}$` are accepted, and
//! they are always written double-quoted. Quoting keeps the name exactly as
//! configured: PostgreSQL folds unquoted names to lower case, so a table created as
//! `CREATE TABLE Bank_Lines` is `bank_lines`, and must be configured so.

use std::fmt;

use crate::Error;

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1 bytes).
const IDENTIFIER_BYTES_MAX: usize = 63;

/// A validated SQL identifier (a table, schema or column name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Checks that `value` is a plain identifier; `what` names it in the error
    /// ([`Error::InvalidIdentifier`]), e.g. `column for field amount`.
    pub fn parse(what: &str, value: &str) -> Result<Self, Error> {
        match identifier_problem(value) {
            None => Ok(Self(value.to_owned())),
            Some(reason) => Err(Error::InvalidIdentifier { what: what.to_owned(), value: value.to_owned(), reason }),
        }
    }

    /// The name as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name double-quoted for SQL text. Validation leaves no `"` to escape.
    pub(crate) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated table name, optionally schema-qualified: `table` or `schema.table`.
/// An unqualified table is looked up on the connection's `search_path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    schema: Option<Identifier>,
    table: Identifier,
}

impl TableName {
    /// Checks `value` (`table` or `schema.table`); `what` names it in the error.
    pub fn parse(what: &str, value: &str) -> Result<Self, Error> {
        let invalid =
            |reason: String| Error::InvalidIdentifier { what: what.to_owned(), value: value.to_owned(), reason };
        let mut parts = value.split('.');
        let (first, second, third) = (parts.next(), parts.next(), parts.next());
        match (first, second, third) {
            (Some(table), None, _) => Ok(Self { schema: None, table: Identifier::parse(what, table)? }),
            (Some(schema), Some(table), None) => {
                let part = |name: &str| identifier_problem(name).map(|reason| invalid(format!("{name:?}: {reason}")));
                if let Some(error) = part(schema).or_else(|| part(table)) {
                    return Err(error);
                }
                Ok(Self { schema: Some(Identifier(schema.to_owned())), table: Identifier(table.to_owned()) })
            }
            _ => Err(invalid("at most one `.` (schema.table) is allowed".to_owned())),
        }
    }

    /// The table's own name, without the schema.
    pub fn table(&self) -> &Identifier {
        &self.table
    }

    /// The schema, when the name is qualified.
    pub fn schema(&self) -> Option<&Identifier> {
        self.schema.as_ref()
    }

    /// The name quoted for SQL text: `"table"` or `"schema"."table"`.
    pub(crate) fn quoted(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", schema.quoted(), self.table.quoted()),
            None => self.table.quoted(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => write!(f, "{}", self.table),
        }
    }
}

/// Why `value` is not a plain identifier, or `None` when it is one.
fn identifier_problem(value: &str) -> Option<String> {
    let Some(first) = value.chars().next() else {
        return Some("it is empty".to_owned());
    };
    if value.len() > IDENTIFIER_BYTES_MAX {
        return Some(format!("it is longer than {IDENTIFIER_BYTES_MAX} bytes"));
    }
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Some(format!("it starts with {first:?}; it must start with an ASCII letter or `_`"));
    }
    value
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(at, c)| format!("character {c:?} at byte {at} is not allowed; only ASCII letters, digits and `_` are"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_qualified_names_are_quoted() {
        let table = TableName::parse("table", "bank_statement_lines").unwrap();
        assert_eq!(table.quoted(), "\"bank_statement_lines\"");
        let table = TableName::parse("table", "neon.Lines_2024").unwrap();
        assert_eq!(table.quoted(), "\"neon\".\"Lines_2024\"");
        assert_eq!(table.to_string(), "neon.Lines_2024");
    }

    #[test]
    fn injection_and_odd_names_are_refused() {
        for bad in [
            "bank_statement_lines; DROP TABLE x",
            "",
            "1abc",
            "a-b",
            "a\"b",
            "a.b.c",
            ".a",
            "a.",
            "ñandú",
            &"x".repeat(64),
        ] {
            let error = TableName::parse("NEON table", bad).unwrap_err();
            assert!(matches!(error, Error::InvalidIdentifier { .. }), "{bad:?}: {error}");
        }
        assert!(Identifier::parse("column", &"x".repeat(63)).is_ok());
    }
}
