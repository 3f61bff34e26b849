"""Health checking and server reflection, the standard services every gRPC user expects."""
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_grpc
from google.protobuf import descriptor_pb2

# Services whose engines are not wired to the server yet: every method must say so.
SERVICES_NOT_YET_AVAILABLE: set[str] = set()
# GraphService methods whose engine part is not built yet.

RUVECTOR_SERVICES = {
    "ruvector.v1.VectorService", "ruvector.v1.GraphService", "ruvector.v1.LearnService",
    "ruvector.v1.RouteService", "ruvector.v1.ClusterService",
}


def test_health_check_overall_and_per_service(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    assert stub.Check(health_pb2.HealthCheckRequest(service="")).status == serving
    assert stub.Check(health_pb2.HealthCheckRequest(service="grpc.health.v1.Health")).status == serving


def test_health_check_unknown_service_is_not_found(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_sends_current_status(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    stream = stub.Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(stream).status == health_pb2.HealthCheckResponse.SERVING
    stream.cancel()


def test_health_watch_unknown_service_reports_service_unknown(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    stream = stub.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert next(stream).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
    stream.cancel()


def _reflect(channel, request, version="v1alpha"):
    if version == "v1alpha":
        stub = v1alpha_grpc.ServerReflectionStub(channel)
    else:
        from grpc.reflection.v1 import reflection_pb2_grpc as v1_grpc
        stub = v1_grpc.ServerReflectionStub(channel)
    return next(stub.ServerReflectionInfo(iter([request])))


@pytest.mark.parametrize("version", ["v1alpha", "v1"])
def test_reflection_lists_the_five_services(channel, version):
    if version == "v1alpha":
        request = v1alpha_pb2.ServerReflectionRequest(list_services="")
    else:
        from grpc.reflection.v1 import reflection_pb2 as v1_pb2
        request = v1_pb2.ServerReflectionRequest(list_services="")
    response = _reflect(channel, request, version)
    names = {service.name for service in response.list_services_response.service}
    assert RUVECTOR_SERVICES <= names
    assert "grpc.health.v1.Health" in names
    assert "grpc.reflection.v1alpha.ServerReflection" in names
    assert "grpc.reflection.v1.ServerReflection" in names


def test_reflection_file_containing_symbol_includes_dependencies(channel):
    response = _reflect(channel, v1alpha_pb2.ServerReflectionRequest(file_containing_symbol="ruvector.v1.VectorService"))
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in response.file_descriptor_response.file_descriptor_proto]
    names = {f.name for f in files}
    vector_file = next(f for f in files if any(s.name == "VectorService" for s in f.service))
    assert set(vector_file.dependency) <= names, "dependencies must be sent with the file"


def test_reflection_method_symbol_and_file_by_name(channel):
    response = _reflect(channel, v1alpha_pb2.ServerReflectionRequest(
        file_containing_symbol="grpc.health.v1.Health.Check"))
    files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
             for raw in response.file_descriptor_response.file_descriptor_proto]
    assert any(f.name == "grpc/health/v1/health.proto" for f in files)
    response = _reflect(channel, v1alpha_pb2.ServerReflectionRequest(file_by_filename="grpc/health/v1/health.proto"))
    assert len(response.file_descriptor_response.file_descriptor_proto) >= 1


def test_reflection_unknown_symbol_is_not_found(channel):
    response = _reflect(channel, v1alpha_pb2.ServerReflectionRequest(file_containing_symbol="no.such.Thing"))
    assert response.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


def test_reflection_works_with_grpcio_reflection_client(channel):
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf.descriptor_pool import DescriptorPool

    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    service = pool.FindServiceByName("ruvector.v1.VectorService")
    assert len(service.methods) > 5


@pytest.mark.parametrize("service", sorted(SERVICES_NOT_YET_AVAILABLE))
def test_services_without_an_engine_say_so(h2c_server, service):
    """No fake answers: every RuVector service not wired yet answers UNIMPLEMENTED, clearly."""
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf.descriptor_pool import DescriptorPool

    with grpc.insecure_channel(h2c_server.address) as ch:
        pool = DescriptorPool(ProtoReflectionDescriptorDatabase(ch))
        for method in pool.FindServiceByName(service).methods:
            # Any method kind can be called as a stream at the HTTP/2 level.
            call = ch.stream_stream(f"/{service}/{method.name}")
            with pytest.raises(grpc.RpcError) as info:
                list(call(iter([b""])))
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED, method.name
            assert "not available yet" in info.value.details(), info.value.details()


def test_a_single_server_says_it_is_no_cluster_node(h2c_server):
    """ClusterService needs a cluster node: on the single-node default every method says how to
    start one, and its health is NOT_SERVING."""
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf.descriptor_pool import DescriptorPool

    with grpc.insecure_channel(h2c_server.address) as ch:
        pool = DescriptorPool(ProtoReflectionDescriptorDatabase(ch))
        for method in pool.FindServiceByName("ruvector.v1.ClusterService").methods:
            call = ch.stream_stream(f"/ruvector.v1.ClusterService/{method.name}")
            with pytest.raises(grpc.RpcError) as info:
                list(call(iter([b""])))
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION, method.name
            assert "--node-id" in info.value.details(), info.value.details()
        health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service="ruvector.v1.ClusterService"))
        assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("service, count", [("VectorService", 17), ("GraphService", 9), ("RouteService", 15)])
def test_every_method_of_complete_services_is_served(h2c_server, service, count):
    """VectorService, GraphService and RouteService are complete: no method falls back to UNIMPLEMENTED
    (an empty request gets a real answer or a real validation error)."""
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf.descriptor_pool import DescriptorPool

    with grpc.insecure_channel(h2c_server.address) as ch:
        pool = DescriptorPool(ProtoReflectionDescriptorDatabase(ch))
        methods = pool.FindServiceByName(f"ruvector.v1.{service}").methods
        assert len(methods) == count
        for method in methods:
            call = ch.stream_stream(f"/ruvector.v1.{service}/{method.name}")
            try:
                list(call(iter([b""])))
            except grpc.RpcError as error:
                assert error.code() != grpc.StatusCode.UNIMPLEMENTED, (method.name, error.details())
