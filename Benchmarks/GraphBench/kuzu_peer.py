"""The Kuzu peer of graph-bench: an embedded Cypher engine, in memory, running the same
queries in its own Cypher. Prints one JSON object on stdout (progress on stderr).
Usage: kuzu_peer.py DIR

Loading, as Kuzu documents for bulk data: the schema (node table Person with primary key id,
rel table KNOWS), then COPY FROM the CSV files graph_peer writes. Kuzu's only index is the
primary-key index on Person(id) (it has no secondary property indexes), and it keeps
relationships in adjacency lists (CSR) both ways. A node table has one label, so :Doc is the
BOOLEAN property `doc`. Kuzu uses its default thread count (every core)."""
import graph_peer

kuzu = graph_peer.require("kuzu")


class KuzuPeer:
    """One in-memory database and connection; each method is one query of graph-bench's workload."""

    def __init__(self, graph):
        nodes, knows = graph.csv_files()
        self.db = kuzu.Database(":memory:")
        self.conn = kuzu.Connection(self.db)
        self.conn.execute("CREATE NODE TABLE Person(id INT64 PRIMARY KEY, age INT64, name STRING, doc BOOLEAN)")
        self.conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")
        self.conn.execute(f"COPY Person FROM '{nodes}' (HEADER=false)")
        self.conn.execute(f"COPY KNOWS FROM '{knows}' (HEADER=false)")

    def rows(self, query, **parameters):
        return self.conn.execute(query, parameters).get_all()

    def one(self, query, **parameters):
        rows = self.rows(query, **parameters)
        return rows[0][0] if rows else None

    def k_hop(self, start, hops):
        return self.one(f"MATCH (a:Person)-[:KNOWS*1..{hops}]->(b:Person) WHERE a.id = $id RETURN count(DISTINCT b.id)", id=start)

    def older_neighbours(self, start, min_age):
        return [r[0] for r in self.rows("MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE a.id = $id AND b.age > $minAge RETURN b.name",
                                        id=start, minAge=min_age)]

    def count_age(self, age):
        return self.one("MATCH (n:Person) WHERE n.age = $age RETURN count(*)", age=age)

    def lookup(self, name):
        return self.rows("MATCH (n:Person) WHERE n.name = $name RETURN n.id, n.age", name=name)[0]

    def var_length(self, start, hops, min_age):
        return self.one(f"MATCH (a:Person)-[:KNOWS*1..{hops}]->(b:Person) WHERE a.id = $id AND b.age > $minAge "
                        "RETURN count(DISTINCT b.id)", id=start, minAge=min_age)

    def shortest(self, start, end, max_hops):
        found = self.one(f"MATCH p = (a:Person)-[:KNOWS* SHORTEST 1..{max_hops}]->(b:Person) WHERE a.id = $s AND b.id = $t "
                         "RETURN length(p)", s=start, t=end)
        return -1 if found is None else found

    def count_per_age(self):
        return self.rows("MATCH (n:Person) RETURN n.age, count(*) ORDER BY n.age")

    def friends_age(self):
        return self.rows("MATCH (a:Person)-[:KNOWS]->(b:Person) RETURN a.age, avg(b.age) ORDER BY a.age")

    def label_pattern(self, age, min_age):
        return self.one("MATCH (a:Person)-[:KNOWS]->(d:Person) WHERE a.age = $age AND d.doc AND d.age > $minAge RETURN count(*)",
                        age=age, minAge=min_age)

    def neighbourhood(self, node):
        return [r[0] for r in self.rows("MATCH (a:Person)-[:KNOWS]-(b:Person) WHERE a.id = $id RETURN DISTINCT b.id", id=node)]


def load(graph):
    return (KuzuPeer(graph), kuzu.__version__,
            "schema, then COPY FROM CSV; primary-key index on Person(id), CSR adjacency both ways; no secondary indexes")


if __name__ == "__main__":
    graph_peer.run("Kuzu", load)
