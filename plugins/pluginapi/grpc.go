package pluginapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The gRPC service is described by hand rather than generated from a .proto
// file. Its two calls carry JSON in protobuf's well-known wrapper types:
//
//	service parc.plugin.v1.Collector {
//	  rpc Describe(google.protobuf.Empty) returns (google.protobuf.BytesValue); // Description
//	  rpc Collect(google.protobuf.BytesValue /* config */) returns (google.protobuf.BytesValue); // Result
//	}
//
// Why: the facts are agentapi's JSON structs already (the report is JSON on
// the wire to the server), so protobuf messages would only mirror them and
// need a second schema kept in step with agentapi; and no protoc or code
// generator is needed to build or change the project. The well-known types
// ship compiled in google.golang.org/protobuf, so the default gRPC codec
// handles them. A plugin in another language implements the service above
// with any gRPC stack.
const (
	serviceName    = "parc.plugin.v1.Collector"
	methodDescribe = "/" + serviceName + "/Describe"
	methodCollect  = "/" + serviceName + "/Collect"
)

// maxMessageBytes bounds one answer of a plugin. A report body is at most
// agentapi.MaxBodyBytes; a plugin answer larger than that cannot fit in one.
const maxMessageBytes = 1 << 20

// collectorServer is the interface grpc.ServiceDesc.HandlerType points at;
// grpc checks that the registered implementation satisfies it.
type collectorServer interface {
	describe(ctx context.Context, in *emptypb.Empty) (*wrapperspb.BytesValue, error)
	collect(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*collectorServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Describe", Handler: describeHandler},
		{MethodName: "Collect", Handler: collectHandler},
	},
	Metadata: "parc/plugins/pluginapi/grpc.go",
}

func describeHandler(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
	in := new(emptypb.Empty)
	if err := dec(in); err != nil {
		return nil, err
	}
	s := srv.(collectorServer)
	if icpt == nil {
		return s.describe(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: methodDescribe}
	return icpt(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return s.describe(ctx, req.(*emptypb.Empty))
	})
}

func collectHandler(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	s := srv.(collectorServer)
	if icpt == nil {
		return s.collect(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: methodCollect}
	return icpt(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return s.collect(ctx, req.(*wrapperspb.BytesValue))
	})
}

// GRPCPlugin is the go-plugin glue: it serves a Collector on the plugin side
// and hands the host a Collector that calls it over gRPC.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's Collector; nil on the host side.
	Impl Collector
}

// GRPCServer registers the Collector service on the plugin's gRPC server.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return fmt.Errorf("pluginapi: no Collector to serve")
	}
	s.RegisterService(&serviceDesc, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Collector that calls the plugin over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &GRPCClient{conn: conn}, nil
}

type grpcServer struct{ impl Collector }

func (s *grpcServer) describe(ctx context.Context, _ *emptypb.Empty) (*wrapperspb.BytesValue, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return marshalAnswer(d)
}

func (s *grpcServer) collect(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	cfg := json.RawMessage(in.GetValue())
	if len(cfg) > 0 && !json.Valid(cfg) {
		return nil, status.Error(codes.InvalidArgument, "plugin configuration is not valid JSON")
	}
	res, err := s.impl.Collect(ctx, cfg)
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return marshalAnswer(res)
}

func marshalAnswer(v any) (*wrapperspb.BytesValue, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding answer: %v", err)
	}
	return wrapperspb.Bytes(data), nil
}

// GRPCClient is the host's view of a plugin: a Collector whose calls go to
// the plugin process.
type GRPCClient struct{ conn *grpc.ClientConn }

// Describe asks the plugin who it is.
func (c *GRPCClient) Describe(ctx context.Context) (Description, error) {
	var d Description
	err := c.call(ctx, methodDescribe, &emptypb.Empty{}, &d)
	return d, err
}

// Collect asks the plugin to collect with config.
func (c *GRPCClient) Collect(ctx context.Context, config json.RawMessage) (Result, error) {
	var r Result
	err := c.call(ctx, methodCollect, wrapperspb.Bytes(config), &r)
	return r, err
}

func (c *GRPCClient) call(ctx context.Context, method string, in any, answer any) error {
	out := new(wrapperspb.BytesValue)
	if err := c.conn.Invoke(ctx, method, in, out, grpc.MaxCallRecvMsgSize(maxMessageBytes)); err != nil {
		return err
	}
	if err := json.Unmarshal(out.GetValue(), answer); err != nil {
		return fmt.Errorf("plugin answered %s with invalid JSON: %w", method, err)
	}
	return nil
}
