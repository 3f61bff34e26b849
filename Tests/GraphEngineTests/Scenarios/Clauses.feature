Feature: Clauses - one scenario per clause the engine claims, combined the way users write them

  Scenario: [1] MERGE with ON CREATE and ON MATCH
    Given an empty graph
    When executing query:
      """
      UNWIND ['a', 'b', 'a'] AS name
      MERGE (p:Person {name: name}) ON CREATE SET p.seen = 1 ON MATCH SET p.seen = p.seen + 1
      WITH DISTINCT p RETURN p.name AS name, p.seen AS seen ORDER BY name
      """
    Then the result should be, in order:
      | name | seen |
      | 'a'  | 2    |
      | 'b'  | 1    |
    And the side effects should be:
      | +nodes      | 2 |
      | +labels     | 1 |
      | +properties | 4 |

  Scenario: [2] OPTIONAL MATCH, aggregation with implicit grouping, UNION
    Given an empty graph
    And having executed:
      """
      CREATE (t1:Test {name: 't1'})-[:DEPENDS_ON]->(t2:Test {name: 't2'}), (t1)-[:DEPENDS_ON]->(:Test {name: 't3'}),
             (:Test {name: 't4'})
      """
    When executing query:
      """
      MATCH (t:Test) OPTIONAL MATCH (t)-[:DEPENDS_ON]->(d)
      RETURN t.name AS name, count(d) AS deps
      UNION
      RETURN 'total' AS name, 4 AS deps
      """
    Then the result should be, in any order:
      | name    | deps |
      | 't1'    | 2    |
      | 't2'    | 0    |
      | 't3'    | 0    |
      | 't4'    | 0    |
      | 'total' | 4    |
    And no side effects

  Scenario: [3] Variable-length paths, SKIP and LIMIT, string operators
    Given an empty graph
    And having executed:
      """
      CREATE (:N {s: 'alpha'})-[:T]->(:N {s: 'beta'})-[:T]->(:N {s: 'gamma'})-[:T]->(:N {s: 'delta'})
      """
    When executing query:
      """
      MATCH (:N {s: 'alpha'})-[:T*1..3]->(x)
      WHERE x.s STARTS WITH 'g' OR x.s ENDS WITH 'ta' OR x.s CONTAINS 'elt'
      RETURN x.s AS s ORDER BY s DESC SKIP 1 LIMIT 5
      """
    Then the result should be, in order:
      | s       |
      | 'delta' |
      | 'beta'  |
    And no side effects

  Scenario: [4] SET, REMOVE, DETACH DELETE and CASE
    Given an empty graph
    And having executed:
      """
      CREATE (:Doc {n: 1})-[:NEXT]->(:Doc {n: 2})-[:NEXT]->(:Doc {n: 3})
      """
    When executing query:
      """
      MATCH (d:Doc) SET d.kind = CASE WHEN d.n % 2 = 0 THEN 'even' ELSE 'odd' END
      WITH d WHERE d.n = 2 REMOVE d:Doc DETACH DELETE d
      """
    Then the result should be empty
    And the side effects should be:
      | -nodes         | 1 |
      | -relationships | 2 |
      | +properties    | 2 |
      | -properties    | 1 |
