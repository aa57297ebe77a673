package gemel.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gemel} command: one subcommand per job. */
@Command(name = "gemel", mixinStandardHelpOptions = true, version = "gemel 0.1.0",
        description = "Generative multimodal entity linking on the JVM.",
        subcommands = {
                CommandLine.HelpCommand.class,
                ConvertCommand.class,
                FeaturesCommand.class,
                ForwardCommand.class,
                GenerateCommand.class,
                IndexCommand.class,
                LinkCommand.class,
                ServeCommand.class,
                EvalCommand.class,
                MergeCommand.class,
                TrainCommand.class,
                WorkerCommand.class,
                DemoCommand.class,
        })
public final class GemelCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.out); }

    public static void main(String[] args) {
        System.exit(new CommandLine(new GemelCli()).execute(args));
    }
}
