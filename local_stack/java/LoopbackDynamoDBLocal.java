// DynamoDB Local on 127.0.0.1 only. Its own entry point (ServerRunner) has no bind-address option and
// listens on every interface; this builds the same handler ServerRunner.createServer builds and mounts it,
// as DynamoDBProxyServer.setUpHandler does, on a Jetty connector bound to the given host.
//
//   java -cp <this folder>:DynamoDBLocal.jar LoopbackDynamoDBLocal HOST PORT [DynamoDB Local options]
//
// PORT 0 lets the system pick a free port. Once listening it prints one line, "listening HOST PORT", so the
// parent knows the port and that this process holds it. Telemetry is off whatever the options say. It exits
// when its standard input closes (the parent stopped or died), so a store never outlives its stack.
// Compiled on first use by local_stack/dynamodb.py (cached in .local/, recompiled when this file changes).

import java.io.IOException;
import java.net.BindException;
import java.util.Arrays;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.monitoring.Telemetry;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBRequestHandler;
import software.amazon.dynamodb.services.local.server.LocalDynamoDBServerHandler;

public final class LoopbackDynamoDBLocal {
    static final int PORT_TAKEN = 3;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LoopbackDynamoDBLocal HOST PORT [DynamoDB Local options]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        CommandLineInput input = new CommandLineInput(Arrays.copyOfRange(args, 2, args.length));
        if (!input.init()) {
            System.exit(2);  // -help or -version: it printed what was asked
        }
        Telemetry.configureTelemetry("LOCAL_STACK", "LOCAL_STACK", false);

        // What ServerRunner.createServer builds, without its Server(port) (which binds every interface).
        LocalDynamoDBServerHandler handler = new LocalDynamoDBServerHandler(
                new LocalDynamoDBRequestHandler(
                        0,
                        input.isInMemory(),
                        input.getDbPath(),
                        input.getSharedDb(),
                        input.shouldDelayTransientStatuses()),
                input.getCorsParams());
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        // What DynamoDBProxyServer.setUpHandler mounts.
        ContextHandler context = new ContextHandler();
        context.setHandler(handler);
        ContextHandlerCollection contexts = new ContextHandlerCollection();
        contexts.addHandler(context);
        server.setHandler(contexts);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (Exception ignored) {
                // exiting anyway
            }
            handler.close();
        }));
        try {
            server.start();
        } catch (IOException error) {
            boolean taken = error instanceof BindException || error.getCause() instanceof BindException;
            System.err.printf("cannot listen on %s:%d: %s%n", host, port, error.getMessage());
            System.exit(taken ? PORT_TAKEN : 1);
        }
        System.out.printf("listening %s %d%n", host, connector.getLocalPort());
        System.out.flush();

        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // the parent writes nothing; end of input means it is gone
                }
            } catch (IOException ignored) {
                // the same: the parent is gone
            }
            System.exit(0);
        }, "parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
        server.join();
    }
}
