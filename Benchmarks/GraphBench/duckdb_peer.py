"""The DuckDB peer of graph-bench: a vectorized SQL engine, in memory, running the same queries
as SQL (recursive CTEs for paths, as sqlite_peer.py writes them). Prints one JSON object on
stdout (progress on stderr). Usage: duckdb_peer.py DIR

Loading, as DuckDB documents for bulk data: tables filled from the CSV files graph_peer writes
(read_csv), edges sorted by (src, dst) so zone maps prune a range read, then ART indexes as
SQLite has them: primary key nodes(id), edges(src, dst), edges(dst, src), nodes(age),
nodes(name). The `doc` column stands for the :Doc label. DuckDB uses its default thread count
(every core)."""
import graph_peer
from sqlite_peer import SQLQueries

duckdb = graph_peer.require("duckdb")


class DuckDBPeer(SQLQueries):
    """One in-memory DuckDB database, queried with the SQL SQLite runs (`SQLQueries`)."""

    def __init__(self, graph):
        nodes, knows = graph.csv_files()
        db = self.db = duckdb.connect(":memory:")
        db.execute("CREATE TABLE nodes (id INTEGER PRIMARY KEY, age INTEGER NOT NULL, name VARCHAR NOT NULL, doc BOOLEAN NOT NULL)")
        db.execute(f"INSERT INTO nodes SELECT * FROM read_csv('{nodes}', header = false, "
                   "columns = {'id': 'INTEGER', 'age': 'INTEGER', 'name': 'VARCHAR', 'doc': 'BOOLEAN'})")
        db.execute(f"CREATE TABLE edges AS SELECT * FROM read_csv('{knows}', header = false, "
                   "columns = {'src': 'INTEGER', 'dst': 'INTEGER'}) ORDER BY src, dst")
        db.execute("CREATE INDEX edges_src ON edges (src, dst)")
        db.execute("CREATE INDEX edges_dst ON edges (dst, src)")
        db.execute("CREATE INDEX nodes_age ON nodes (age)")
        db.execute("CREATE INDEX nodes_name ON nodes (name)")
        db.execute("ANALYZE")

    def rows(self, sql, *args):
        return self.db.execute(sql, list(args)).fetchall()


def load(graph):
    return (DuckDBPeer(graph), duckdb.__version__,
            "read_csv into tables (edges sorted by src, dst), then ART indexes: primary key nodes(id), "
            "edges(src, dst), edges(dst, src), nodes(age), nodes(name)")


if __name__ == "__main__":
    graph_peer.run("DuckDB", load)
