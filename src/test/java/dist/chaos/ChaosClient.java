package dist.chaos;

import dist.Client;
import dist.Future;
import dist.Options;

import java.util.ArrayList;
import java.util.List;

/**
 * A client process that submits many tasks and then stops reading: the chaos run stops it with
 * SIGSTOP while the scheduler still owes it the notices of those tasks, as a laptop whose lid closes.
 * Arguments: scheduler address, number of tasks.
 */
public final class ChaosClient {
    private ChaosClient() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        Client client = Client.connect(args[0]);
        Options fresh = Options.defaults().pure(false);
        List<Future<Integer>> held = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            held.add(client.with(fresh).submit(ChaosRun::inc, i));
        }
        System.out.println("submitted " + held.size());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // holds the futures until killed
    }
}
