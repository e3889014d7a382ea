//! Plain-text tables for people: left-aligned columns, two spaces apart,
//! the last column unpadded.

use super::say;

/// Columns of fixed widths, for rows printed as they come.
pub struct Columns {
    widths: Vec<usize>,
}

impl Columns {
    pub fn new(widths: &[usize]) -> Columns {
        Columns {
            widths: widths.to_vec(),
        }
    }

    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let width = self.widths.get(i).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        line.trim_end().to_owned()
    }
}

/// A whole table, its widths from its contents.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self) {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let columns = Columns::new(&widths);
        for row in &self.rows {
            say::out(&columns.line(row));
        }
    }
}

/// A value or a dash.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_padded_to_their_column_but_the_last() {
        let columns = Columns::new(&[4, 6]);
        assert_eq!(columns.line(&["1", "BUILD", "main"]), "1     BUILD   main");
        assert_eq!(columns.line(&["12345", "X", ""]), "12345  X");
    }
}
