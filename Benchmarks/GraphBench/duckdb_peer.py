"""The DuckDB peer of graph-bench: a vectorized SQL engine, in memory, running the same queries
as SQL (recursive CTEs for paths, as sqlite_peer.py writes them). Prints one JSON object on
stdout (progress on stderr). Usage: duckdb_peer.py DIR

Loading, as DuckDB documents for bulk data: tables filled from the CSV files graph_peer writes
(read_csv), edges sorted by (src, dst) so zone maps prune a range read, then ART indexes as
SQLite has them: primary key nodes(id), edges(src, dst), edges(dst, src), nodes(age),
nodes(name). The `doc` column stands for the :Doc label. DuckDB uses its default thread count
(every core)."""
import graph_peer
from sqlite_peer import REACH

duckdb = graph_peer.require("duckdb")


class DuckDBPeer:
    """One in-memory database; each method is one query of graph-bench's workload."""

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

    def one(self, sql, *args):
        return self.rows(sql, *args)[0][0]

    def k_hop(self, start, hops):
        return self.one(REACH + "SELECT count(DISTINCT node) FROM reach WHERE depth > 0", start, hops)

    def older_neighbours(self, start, min_age):
        return [r[0] for r in self.rows("SELECT n.name FROM edges AS e JOIN nodes AS n ON n.id = e.dst WHERE e.src = ? AND n.age > ?",
                                        start, min_age)]

    def count_age(self, age):
        return self.one("SELECT count(*) FROM nodes WHERE age = ?", age)

    def lookup(self, name):
        return self.rows("SELECT id, age FROM nodes WHERE name = ?", name)[0]

    def var_length(self, start, hops, min_age):
        return self.one(REACH + "SELECT count(DISTINCT r.node) FROM reach AS r JOIN nodes AS n ON n.id = r.node "
                        "WHERE r.depth > 0 AND n.age > ?3", start, hops, min_age)

    def shortest(self, start, end, max_hops):
        found = self.one(REACH + "SELECT min(depth) FROM reach WHERE node = ?3 AND depth > 0", start, max_hops, end)
        return -1 if found is None else found

    def count_per_age(self):
        return self.rows("SELECT age, count(*) FROM nodes GROUP BY age ORDER BY age")

    def friends_age(self):
        return self.rows("SELECT a.age, avg(b.age) FROM edges AS e JOIN nodes AS a ON a.id = e.src "
                         "JOIN nodes AS b ON b.id = e.dst GROUP BY a.age ORDER BY a.age")

    def label_pattern(self, age, min_age):
        return self.one("SELECT count(*) FROM nodes AS a JOIN edges AS e ON e.src = a.id JOIN nodes AS d ON d.id = e.dst "
                        "WHERE a.age = ? AND d.doc AND d.age > ?", age, min_age)

    def neighbourhood(self, node):
        return [n for (n,) in self.rows("SELECT dst FROM edges WHERE src = ?1 UNION SELECT src FROM edges WHERE dst = ?1", node)]


def load(graph):
    return (DuckDBPeer(graph), duckdb.__version__,
            "read_csv into tables (edges sorted by src, dst), then ART indexes: primary key nodes(id), "
            "edges(src, dst), edges(dst, src), nodes(age), nodes(name)")


if __name__ == "__main__":
    graph_peer.run("DuckDB", load)
