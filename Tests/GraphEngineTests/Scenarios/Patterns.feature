Feature: Patterns - pattern predicates, pattern comprehensions and EXISTS subqueries

  Background:
    Given an empty graph
    And having executed:
      """
      CREATE (t1:Test {name: 't1'}), (t2:Test {name: 't2'}), (t3:Test {name: 't3'}), (m:Module {name: 'core'})
      CREATE (t1)-[:DEPENDS_ON]->(t2), (t1)-[:DEPENDS_ON]->(t3), (t2)-[:COVERS]->(m), (t3)-[:COVERS]->(m)
      """

  Scenario: [1] A pattern predicate in WHERE, negated too
    When executing query:
      """
      MATCH (t:Test) WHERE (t)-[:COVERS]->(:Module) AND NOT (t)<-[:DEPENDS_ON]-(:Test {name: 't9'})
      RETURN t.name AS name ORDER BY name
      """
    Then the result should be, in order:
      | name |
      | 't2' |
      | 't3' |
    And no side effects

  Scenario: [2] A pattern comprehension collects projections of every match
    When executing query:
      """
      MATCH (t:Test {name: 't1'})
      RETURN [(t)-[:DEPENDS_ON]->(d) WHERE d.name <> 't9' | d.name] AS deps,
             size([(t)-[:DEPENDS_ON]->()-[:COVERS]->(m) | m]) AS coveredVia
      """
    Then the result should be, in any order:
      | deps         | coveredVia |
      | ['t2', 't3'] | 2          |
    And no side effects

  Scenario: [3] EXISTS with a pattern and WHERE, and with a full subquery that aggregates
    When executing query:
      """
      MATCH (t:Test)
      RETURN t.name AS name,
             EXISTS { (t)-[:DEPENDS_ON]->(d) WHERE d.name = 't3' } AS needsT3,
             EXISTS { MATCH (t)-[:DEPENDS_ON]->(d) WITH count(d) AS n WHERE n >= 2 RETURN n } AS manyDeps
      ORDER BY name
      """
    Then the result should be, in order:
      | name | needsT3 | manyDeps |
      | 't1' | true    | true     |
      | 't2' | false   | false    |
      | 't3' | false   | false    |
    And no side effects

  Scenario: [4] An EXISTS subquery cannot write
    When executing query:
      """
      MATCH (t:Test) WHERE EXISTS { MATCH (t)-->(m) SET m.x = 1 } RETURN t
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: [5] exists() on a property and on a pattern
    When executing query:
      """
      MATCH (t:Test) RETURN t.name AS name, exists(t.name) AS hasName, exists(t.other) AS hasOther,
             exists((t)-[:COVERS]->()) AS covers ORDER BY name
      """
    Then the result should be, in order:
      | name | hasName | hasOther | covers |
      | 't1' | true    | false    | false  |
      | 't2' | true    | false    | true   |
      | 't3' | true    | false    | true   |
    And no side effects
