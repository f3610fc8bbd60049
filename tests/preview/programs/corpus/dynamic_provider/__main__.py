import pulumi
from pulumi.dynamic import Resource, ResourceProvider


class DatabaseUserProvider(ResourceProvider):
    def create(self, props):  # talks to a real server; never run offline
        raise RuntimeError("would connect to the database server")


class DatabaseUser(Resource):
    connection_string: pulumi.Output[str]

    def __init__(self, name, user, opts=None):
        super().__init__(
            DatabaseUserProvider(), name, {"user": user, "connection_string": None}, opts
        )


user = DatabaseUser("app-user", "app")
pulumi.export("dsn", user.connection_string.apply(lambda s: s.upper()))
