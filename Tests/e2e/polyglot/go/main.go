// A grpc-go client of RuVector, built from stubs generated at test time (see ../README.md).
//
// It runs the polyglot scenario against one server: create a collection, upsert points with
// payloads, search (unary, with and without a filter, and over SearchStream), run Cypher on
// GraphService reading the streamed rows, and provoke two errors. It prints one JSON object
// (the shape is in ../README.md) that the test compares with the Python client's answers.
//
// Usage: ruvector-go-client -addr 127.0.0.1:PORT -create CYPHER -match CYPHER
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	pb "ruvector.local/v1"
)

// The dataset: every language computes it from the same integer formulas (../README.md),
// chosen so that the floats are exact and no two scores tie.
const (
	collectionName = "polyglot"
	pointCount     = 48
	dimension      = 8
	uuidPoint      = 3
	uuidID         = "5f0c6a1e-0000-4000-8000-000000000003"
)

var langs = []string{"swift", "go", "cpp"}

func pointVector(i int) []float32 {
	v := make([]float32, dimension)
	for j := range v {
		v[j] = float32((i+3)*(j+5)*37%97-48) / 8
	}
	return v
}

func queryVector() []float32 {
	v := make([]float32, dimension)
	for j := range v {
		v[j] = float32((j*29+11)%23-11) / 4
	}
	return v
}

func streamQueryVector(t int) []float32 {
	v := make([]float32, dimension)
	for j := range v {
		v[j] = float32((j+1)*(t+7)*13%31-15) / 2
	}
	return v
}

func pointID(i int) *pb.PointId {
	if i == uuidPoint {
		return &pb.PointId{Kind: &pb.PointId_Uuid{Uuid: uuidID}}
	}
	return &pb.PointId{Kind: &pb.PointId_Num{Num: uint64(i + 1)}}
}

func str(s string) *pb.Value  { return &pb.Value{Kind: &pb.Value_StringValue{StringValue: s}} }
func num(n int64) *pb.Value   { return &pb.Value{Kind: &pb.Value_IntValue{IntValue: n}} }
func dbl(d float64) *pb.Value { return &pb.Value{Kind: &pb.Value_DoubleValue{DoubleValue: d}} }

func pointPayload(i int) *pb.Struct {
	fields := map[string]*pb.Value{
		"lang":  str(langs[i%3]),
		"year":  num(int64(2000 + i)),
		"score": dbl(float64(i) + 0.5),
		"draft": {Kind: &pb.Value_BoolValue{BoolValue: i%2 == 0}},
		"tags": {Kind: &pb.Value_ListValue{ListValue: &pb.ListValue{
			Values: []*pb.Value{str(fmt.Sprintf("t%d", i%4)), num(int64(i))}}}},
		"meta": {Kind: &pb.Value_StructValue{StructValue: &pb.Struct{
			Fields: map[string]*pb.Value{"rank": num(int64(i % 5)), "ratio": dbl(float64(i) / 4)}}}},
	}
	if i%7 == 0 {
		fields["note"] = &pb.Value{Kind: &pb.Value_NullValue{NullValue: true}}
	}
	return &pb.Struct{Fields: fields}
}

// jsonFloat keeps a double a double in JSON ("2.0", not "2"), so the test can tell payload
// integers from floating point as the Python client does.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	text := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(text, ".eEn") {
		text += ".0"
	}
	return []byte(text), nil
}

func valueJSON(v *pb.Value) interface{} {
	switch kind := v.GetKind().(type) {
	case *pb.Value_BoolValue:
		return kind.BoolValue
	case *pb.Value_IntValue:
		return kind.IntValue
	case *pb.Value_DoubleValue:
		return jsonFloat(kind.DoubleValue)
	case *pb.Value_StringValue:
		return kind.StringValue
	case *pb.Value_ListValue:
		list := []interface{}{}
		for _, element := range kind.ListValue.GetValues() {
			list = append(list, valueJSON(element))
		}
		return list
	case *pb.Value_StructValue:
		return structJSON(kind.StructValue)
	}
	return nil // null_value, or a kind this client does not know
}

func structJSON(s *pb.Struct) map[string]interface{} {
	object := map[string]interface{}{}
	for key, value := range s.GetFields() {
		object[key] = valueJSON(value)
	}
	return object
}

func idJSON(id *pb.PointId) interface{} {
	if uuid, ok := id.GetKind().(*pb.PointId_Uuid); ok {
		return uuid.Uuid
	}
	return id.GetNum()
}

func hitsJSON(response *pb.SearchResponse, withPayload bool) []interface{} {
	hits := []interface{}{}
	for _, hit := range response.GetHits() {
		var payload interface{}
		if withPayload {
			payload = structJSON(hit.GetPayload())
		}
		hits = append(hits, map[string]interface{}{"id": idJSON(hit.GetId()), "score": hit.GetScore(), "payload": payload})
	}
	return hits
}

func graphValueJSON(v *pb.GraphValue) interface{} {
	switch kind := v.GetKind().(type) {
	case *pb.GraphValue_Value:
		return valueJSON(kind.Value)
	case *pb.GraphValue_Node:
		n := kind.Node
		return map[string]interface{}{"node": map[string]interface{}{
			"id": n.GetId(), "labels": append([]string{}, n.GetLabels()...), "properties": structJSON(n.GetProperties())}}
	case *pb.GraphValue_Relationship:
		r := kind.Relationship
		return map[string]interface{}{"relationship": map[string]interface{}{
			"id": r.GetId(), "type": r.GetType(), "start": r.GetStartNodeId(), "end": r.GetEndNodeId(),
			"properties": structJSON(r.GetProperties())}}
	case *pb.GraphValue_List:
		list := []interface{}{}
		for _, element := range kind.List.GetValues() {
			list = append(list, graphValueJSON(element))
		}
		return list
	}
	return nil
}

func statusJSON(err error) map[string]interface{} {
	s, _ := status.FromError(err)
	return map[string]interface{}{"code": int(s.Code()), "message": s.Message()}
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
}

func searchStream(ctx context.Context, vectors pb.VectorServiceClient) []interface{} {
	stream, err := vectors.SearchStream(ctx)
	must(err, "SearchStream")
	const queries = 4
	for t := 0; t < queries; t++ {
		must(stream.Send(&pb.SearchRequest{Collection: collectionName, Vector: &pb.Vector{Values: streamQueryVector(t)},
			K: 3, Tag: uint64(t)}), "SearchStream send")
	}
	must(stream.CloseSend(), "SearchStream close")
	// Answers may come out of order: each carries its request's tag.
	byTag := map[uint64]*pb.SearchResponse{}
	for {
		response, err := stream.Recv()
		if err == io.EOF {
			break
		}
		must(err, "SearchStream receive")
		byTag[response.GetTag()] = response
	}
	tags := []uint64{}
	for tag := range byTag {
		tags = append(tags, tag)
	}
	sort.Slice(tags, func(a, b int) bool { return tags[a] < tags[b] })
	answers := []interface{}{}
	for _, tag := range tags {
		answers = append(answers, hitsJSON(byTag[tag], false))
	}
	if len(answers) != queries {
		fmt.Fprintf(os.Stderr, "SearchStream: %d answers to %d queries\n", len(answers), queries)
		os.Exit(1)
	}
	return answers
}

func cypher(ctx context.Context, graph pb.GraphServiceClient, request *pb.ExecuteRequest) map[string]interface{} {
	stream, err := graph.Execute(ctx, request)
	must(err, "Execute")
	columns := []string{}
	rows := []interface{}{}
	batches := 0
	var summary *pb.ResultSummary
	for {
		part, err := stream.Recv()
		if err == io.EOF {
			break
		}
		must(err, "Execute receive")
		switch p := part.GetPart().(type) {
		case *pb.ExecuteResponse_Header:
			columns = append(columns, p.Header.GetColumns()...)
		case *pb.ExecuteResponse_Rows:
			batches++
			for _, row := range p.Rows.GetRows() {
				values := []interface{}{}
				for _, value := range row.GetValues() {
					values = append(values, graphValueJSON(value))
				}
				rows = append(rows, values)
			}
		case *pb.ExecuteResponse_Summary:
			summary = p.Summary
		}
	}
	return map[string]interface{}{"columns": columns, "rows": rows, "row_batches": batches,
		"nodes_created": summary.GetNodesCreated(), "relationships_created": summary.GetRelationshipsCreated()}
}

func main() {
	address := flag.String("addr", "127.0.0.1:50051", "server address")
	createQuery := flag.String("create", "", "Cypher that builds the graph, with a parameter $a = \"Al\"")
	matchQuery := flag.String("match", "", "Cypher whose rows are printed (read one row per batch)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *address, grpc.WithInsecure(), grpc.WithBlock())
	must(err, "dial")
	defer conn.Close()
	vectors := pb.NewVectorServiceClient(conn)
	graph := pb.NewGraphServiceClient(conn)
	out := map[string]interface{}{}

	_, err = vectors.CreateCollection(ctx, &pb.CreateCollectionRequest{Name: collectionName, Dimension: dimension,
		Metric: pb.Metric_METRIC_COSINE})
	must(err, "CreateCollection")
	points := []*pb.PointStruct{}
	for i := 0; i < pointCount; i++ {
		points = append(points, &pb.PointStruct{Id: pointID(i), Vector: &pb.Vector{Values: pointVector(i)}, Payload: pointPayload(i)})
	}
	written, err := vectors.Upsert(ctx, &pb.UpsertRequest{Collection: collectionName, Points: points})
	must(err, "Upsert")
	out["upserted"] = written.GetPointsAffected()
	info, err := vectors.GetCollection(ctx, &pb.GetCollectionRequest{Name: collectionName})
	must(err, "GetCollection")
	out["collection"] = map[string]interface{}{"name": info.GetName(), "dimension": info.GetDimension(),
		"metric": int32(info.GetMetric()), "points_count": info.GetPointsCount()}

	withPayload := &pb.WithOptions{WithPayload: true}
	found, err := vectors.Search(ctx, &pb.SearchRequest{Collection: collectionName, Vector: &pb.Vector{Values: queryVector()},
		K: 6, Params: &pb.SearchParams{Ef: 64}, With: withPayload})
	must(err, "Search")
	out["search"] = hitsJSON(found, true)
	filter := &pb.Filter{Must: []*pb.Condition{
		{Kind: &pb.Condition_Field{Field: &pb.FieldCondition{Key: "lang",
			Test: &pb.FieldCondition_Match{Match: &pb.Match{Kind: &pb.Match_Keyword{Keyword: "go"}}}}}},
		{Kind: &pb.Condition_Field{Field: &pb.FieldCondition{Key: "year",
			Test: &pb.FieldCondition_Range{Range: &pb.Range{GteBound: &pb.Range_Gte{Gte: 2010}}}}}},
	}}
	found, err = vectors.Search(ctx, &pb.SearchRequest{Collection: collectionName, Vector: &pb.Vector{Values: queryVector()},
		K: 4, Filter: filter, With: withPayload})
	must(err, "Search with a filter")
	out["search_filtered"] = hitsJSON(found, true)
	out["search_stream"] = searchStream(ctx, vectors)

	create := cypher(ctx, graph, &pb.ExecuteRequest{Query: *createQuery,
		Parameters: []*pb.Parameter{{Name: "a", Value: str("Al")}}})
	out["cypher_create"] = map[string]interface{}{"nodes_created": create["nodes_created"],
		"relationships_created": create["relationships_created"]}
	match := cypher(ctx, graph, &pb.ExecuteRequest{Query: *matchQuery, BatchRows: 1})
	out["cypher"] = map[string]interface{}{"columns": match["columns"], "rows": match["rows"], "row_batches": match["row_batches"]}

	errors := map[string]interface{}{}
	_, err = vectors.GetCollection(ctx, &pb.GetCollectionRequest{Name: "missing"})
	errors["get_missing"] = statusJSON(err)
	_, err = vectors.Search(ctx, &pb.SearchRequest{Collection: collectionName, Vector: &pb.Vector{Values: []float32{1, 2}}, K: 3})
	errors["search_wrong_dimension"] = statusJSON(err)
	out["errors"] = errors

	encoded, err := json.Marshal(out)
	must(err, "encode")
	fmt.Println(string(encoded))
}
