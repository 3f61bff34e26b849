Feature: Functions - quantifiers, reduce, mathematics, strings, rand

  Scenario: [1] Quantifiers follow three-valued logic
    Given any graph
    When executing query:
      """
      RETURN all(x IN [1, 2, 3] WHERE x > 0) AS a1, all(x IN [1, null] WHERE x > 0) AS a2, all(x IN [0, null] WHERE x > 0) AS a3,
             any(x IN [1, null] WHERE x > 0) AS y1, any(x IN [0, null] WHERE x > 0) AS y2, any(x IN [] WHERE true) AS y3,
             none(x IN [0, -1] WHERE x > 0) AS n1, none(x IN [null] WHERE x > 0) AS n2,
             single(x IN [1, 0] WHERE x > 0) AS s1, single(x IN [1, 1] WHERE x > 0) AS s2, single(x IN [1, null] WHERE x > 0) AS s3,
             all(x IN null WHERE x > 0) AS nullList
      """
    Then the result should be, in any order:
      | a1   | a2   | a3    | y1   | y2   | y3    | n1   | n2   | s1   | s2    | s3   | nullList |
      | true | null | false | true | null | false | true | null | true | false | null | null     |
    And no side effects

  Scenario: [2] Quantifiers over graph data
    Given an empty graph
    And having executed:
      """
      CREATE (:P {name: 'a', scores: [3, 4]}), (:P {name: 'b', scores: [1, 9]})
      """
    When executing query:
      """
      MATCH (p:P) WHERE all(s IN p.scores WHERE s > 2) RETURN p.name AS name
      """
    Then the result should be, in any order:
      | name |
      | 'a'  |
    And no side effects

  Scenario: [3] reduce folds a list
    Given any graph
    When executing query:
      """
      RETURN reduce(total = 0, x IN [1, 2, 3, 4] | total + x) AS sum,
             reduce(s = '', w IN ['a', 'b'] | s + w) AS joined,
             reduce(t = 1, x IN [] | t * x) AS empty, reduce(t = 1, x IN null | t * x) AS nullList
      """
    Then the result should be, in any order:
      | sum | joined | empty | nullList |
      | 10  | 'ab'   | 1     | null     |
    And no side effects

  Scenario: [4] Mathematical functions
    Given any graph
    When executing query:
      """
      RETURN sqrt(16) AS r, sign(-3) AS s, sign(0.5) AS s2, ceil(1.2) AS c, floor(-1.2) AS f, round(2.5) AS r1,
             round(-2.5) AS r2, round(3.14159, 2) AS r3, abs(-2) AS a, exp(0) AS e0, log(1) AS l, log10(1000) AS l10,
             toInteger(degrees(pi())) AS deg, radians(0) AS rad, atan2(0, 1) AS at, sqrt(null) AS n
      """
    Then the result should be, in any order:
      | r   | s  | s2 | c   | f    | r1  | r2   | r3   | a | e0  | l   | l10 | deg | rad | at  | n    |
      | 4.0 | -1 | 1  | 2.0 | -2.0 | 3.0 | -3.0 | 3.14 | 2 | 1.0 | 0.0 | 3.0 | 180 | 0.0 | 0.0 | null |
    And no side effects

  Scenario: [5] String functions
    Given any graph
    When executing query:
      """
      RETURN split('a,b,,c', ',') AS parts, substring('hello', 1, 3) AS sub, substring('hello', 2) AS rest,
             replace('banana', 'an', 'AN') AS rep, trim('  x  ') AS t, ltrim('  x ') AS lt, rtrim(' x  ') AS rt,
             left('hello', 2) AS l, right('hello', 10) AS r, split(null, ',') AS n, toUpper('straße') AS up
      """
    Then the result should be, in any order:
      | parts                | sub   | rest  | rep      | t   | lt   | rt   | l    | r       | n    | up        |
      | ['a', 'b', '', 'c']  | 'ell' | 'llo' | 'bANANa' | 'x' | 'x ' | ' x' | 'he' | 'hello' | null | 'STRASSE' |
    And no side effects

  Scenario: [6] Conversions that return null instead of failing
    Given any graph
    When executing query:
      """
      RETURN toIntegerOrNull('12') AS i, toIntegerOrNull([1]) AS bad, toFloatOrNull('x') AS f, toStringOrNull({a: 1}) AS s,
             toBooleanOrNull('TRUE') AS b
      """
    Then the result should be, in any order:
      | i  | bad  | f    | s    | b    |
      | 12 | null | null | null | true |
    And no side effects

  Scenario: [7] rand() is in [0, 1)
    Given any graph
    When executing query:
      """
      UNWIND range(1, 1000) AS i WITH rand() AS r RETURN min(r) >= 0.0 AS low, max(r) < 1.0 AS high, count(DISTINCT r) > 990 AS varied
      """
    Then the result should be, in any order:
      | low  | high | varied |
      | true | true | true   |
    And no side effects

  Scenario: [8] Wrong argument types are errors
    Given any graph
    When executing query:
      """
      RETURN substring('abc', -1) AS s
      """
    Then a TypeError should be raised at runtime: InvalidArgumentValue

  Scenario: [9] A quantifier needs WHERE
    Given any graph
    When executing query:
      """
      RETURN any(x IN [1, 2]) AS a
      """
    Then a SyntaxError should be raised at compile time: InvalidArgument

  Scenario: [10] Octal, hexadecimal and the smallest integer literals
    Given any graph
    When executing query:
      """
      RETURN 0o17 AS o, 0xFF AS h, -9223372036854775808 AS smallest, -0x8000000000000000 AS smallestHex
      """
    Then the result should be, in any order:
      | o  | h   | smallest             | smallestHex          |
      | 15 | 255 | -9223372036854775808 | -9223372036854775808 |
    And no side effects

  Scenario: [11] An aggregate of rand() is refused before anything runs
    Given an empty graph
    When executing query:
      """
      UNWIND [1, 2] AS x
      RETURN sum(x + rand()) AS s
      """
    Then a SyntaxError should be raised at compile time: NonConstantExpression
