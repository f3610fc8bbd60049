"""The component package's entry point: the Pulumi CLI runs ``python <this directory>
<engine address>`` and reads the gRPC port it prints (platformkit.provider.host)."""

from platformkit.provider.host import serve

if __name__ == "__main__":
    serve()
