package dist.chaos;

import dist.Client;
import dist.Future;
import dist.Options;

import java.util.ArrayList;
import java.util.List;

/**
 * A client process that submits many tasks and then stops reading: the chaos run stops it with
 * SIGSTOP while the scheduler still owes it the notices of those tasks, as a laptop whose lid closes.
 * Arguments: scheduler address, number of tasks, bytes of each result. It submits once a line arrives
 * on its standard input.
 */
public final class ChaosClient {
    private ChaosClient() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        Client client = Client.connect(args[0]);
        System.out.println("connected");
        System.out.flush();
        // started early, so its JVM's start-up is not part of the measured chaos; submits when told
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        Options fresh = Options.defaults().pure(false);
        int bytes = Integer.parseInt(args[2]);
        List<Future<byte[]>> held = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            held.add(client.with(fresh).submit(ChaosRun::block, i, bytes)); // small enough to travel inline to us
        }
        System.out.println("submitted " + held.size());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // holds the futures until killed
    }
}
