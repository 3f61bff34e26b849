"""The SQLite peer of graph-bench: loads the graph graph-bench wrote into an in-memory SQLite
database and runs the same queries (recursive CTEs for paths), timing each one.
Prints one JSON object on stdout (progress on stderr). Usage: sqlite_peer.py DIR

Loading: rows inserted with executemany, then covering indexes on edges (src, dst) and
(dst, src) and indexes on nodes(age) and nodes(name); ANALYZE. The `doc` column stands for
the :Doc label. Python stdlib sqlite3, numpy (graph_peer) for the files and the vector scan."""
import sqlite3

import graph_peer

# Nodes reachable from ?1 in 1..?2 outgoing hops, with the depth they were reached at.
# UNION dedupes (node, depth) pairs, so a node is expanded at most once per depth.
REACH = """
WITH RECURSIVE reach(node, depth) AS (
    SELECT ?1, 0
    UNION
    SELECT e.dst, r.depth + 1 FROM reach AS r JOIN edges AS e ON e.src = r.node WHERE r.depth < ?2
)"""


class SQLQueries:
    """The workload's queries in SQL, over `nodes(id, age, name, doc)` and `edges(src, dst)`:
    SQLite and DuckDB (duckdb_peer.py) run the same text; each subclass loads its engine and
    says how a query is run (`rows`)."""

    def rows(self, sql, *args):
        raise NotImplementedError

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


class SQLitePeer(SQLQueries):
    """One in-memory SQLite database."""

    def __init__(self, graph):
        db = self.db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE nodes (id INTEGER PRIMARY KEY, age INTEGER NOT NULL, name TEXT NOT NULL, doc INTEGER NOT NULL)")
        db.execute("CREATE TABLE edges (src INTEGER NOT NULL, dst INTEGER NOT NULL)")
        db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?)",
                       zip(range(len(graph.ages)), graph.ages.tolist(), graph.names, graph.is_doc.astype(int).tolist()))
        db.executemany("INSERT INTO edges VALUES (?, ?)", zip(graph.starts.tolist(), graph.ends.tolist()))
        # Covering indexes, so a hop is one index range read in either direction.
        db.execute("CREATE INDEX edges_src ON edges (src, dst)")
        db.execute("CREATE INDEX edges_dst ON edges (dst, src)")
        db.execute("CREATE INDEX nodes_age ON nodes (age)")
        db.execute("CREATE INDEX nodes_name ON nodes (name)")
        db.commit()
        db.execute("ANALYZE")

    def rows(self, sql, *args):
        return self.db.execute(sql, args).fetchall()


def load(graph):
    return (SQLitePeer(graph), sqlite3.sqlite_version,
            "rows inserted with executemany, then indexes edges(src, dst), edges(dst, src), nodes(age), nodes(name); ANALYZE")


if __name__ == "__main__":
    graph_peer.run("SQLite", load)
