package io.sluice.hadoop;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options.OpenFileOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the running Hadoop offers. The classes Hadoop loads by name ({@link SluiceFileSystem},
 * {@link Sluice}) load on every Hadoop client from 3.3.1 on and reach newer Hadoop types only
 * through here, where they exist.
 *
 * <p>Choosing the FileSystem class. While Hadoop loads file systems (FileSystem.loadFileSystems,
 * once per JVM) it instantiates every class named in META-INF/services/org.apache.hadoop.fs.
 * FileSystem, and a class whose superinterface is missing throws a LinkageError out of that
 * loop, which Hadoop does not catch: every scheme, file:// too, is broken for the JVM. So the
 * services file names SluiceFileSystem, which loads everywhere, and {@link SluiceFileSystem336}
 * adds the interfaces of Hadoop 3.3.6 (SafeMode). Instantiating SluiceFileSystem in that loop
 * runs its static initialiser, which calls {@link #register()}: if SluiceFileSystem336 loads on
 * this Hadoop, the default resource {@value #DEFAULTS_336} is added to every Configuration; it
 * sets fs.sluice.impl to SluiceFileSystem336. FileSystem.getFileSystemClass reads fs.sluice.impl
 * before it looks at the classes the services file registered, so FileSystem.get then makes a
 * SluiceFileSystem336, while an fs.sluice.impl that the user sets (a site file, conf.set,
 * spark.hadoop.*) still wins over a default resource. HDFS adds hdfs-default.xml the same way,
 * from DistributedFileSystem's static initialiser in the same loop.
 *
 * <p>Binding FileContext. Hadoop finds an AbstractFileSystem only through
 * fs.AbstractFileSystem.SCHEME.impl (core-default.xml sets it for hdfs), so {@link #register()}
 * adds {@value #DEFAULTS} on every Hadoop: FileContext works on sluice:// wherever the services
 * file was read, as Spark's Structured Streaming checkpoints expect, with no setting. A JVM
 * that asks FileContext for sluice:// before it has used any FileSystem still needs the key.
 */
final class HadoopCompat {
  private static final Logger LOG = LoggerFactory.getLogger(SluiceFileSystem.class);

  /** The default resource binding FileContext (fs.AbstractFileSystem.sluice.impl; in the jar). */
  static final String DEFAULTS = "io/sluice/hadoop/sluice-default.xml";

  /** The default resource naming SluiceFileSystem336 in fs.sluice.impl (in the jar). */
  static final String DEFAULTS_336 = "io/sluice/hadoop/sluice-default-336.xml";

  /** Whether Options.OpenFileOptions (Hadoop 3.3.5) is there. */
  private static final boolean OPEN_FILE_OPTIONS =
      present("org.apache.hadoop.fs.Options$OpenFileOptions", FileSystem.class);

  /**
   * The option keys openFile() must accept: Hadoop's own set from 3.3.5 on (it grows: 3.4 added
   * a footer cache key), else the 3.3.6 list. The keys are compile-time constants, so naming
   * them needs no OpenFileOptions at run time; only its Set fields do.
   */
  static final Set<String> OPEN_FILE_STANDARD_OPTIONS = OPEN_FILE_OPTIONS
      ? OpenFileOptions.FS_OPTION_OPENFILE_STANDARD_OPTIONS
      : setOf(OpenFileOptions.FS_OPTION_OPENFILE_BUFFER_SIZE,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY,
          OpenFileOptions.FS_OPTION_OPENFILE_LENGTH,
          OpenFileOptions.FS_OPTION_OPENFILE_SPLIT_START,
          OpenFileOptions.FS_OPTION_OPENFILE_SPLIT_END);

  /** The read policies Hadoop defines: its own set from 3.3.5 on, else the 3.3.6 list. */
  static final Set<String> READ_POLICIES = OPEN_FILE_OPTIONS
      ? OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICIES
      : setOf(OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_ADAPTIVE,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_DEFAULT,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_RANDOM,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_SEQUENTIAL,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_VECTOR,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_WHOLE_FILE);

  /** The richest FileSystem class that loads on this Hadoop. */
  private static final Class<? extends SluiceFileSystem> FILE_SYSTEM_CLASS = chooseClass();

  private static final AtomicBoolean WARNED = new AtomicBoolean();

  private HadoopCompat() {}

  /**
   * Makes fs.AbstractFileSystem.sluice.impl default to {@link Sluice}, and fs.sluice.impl to
   * {@link #fileSystemClass()} when that is not SluiceFileSystem (see the class comment).
   * Idempotent: Configuration adds a default resource once.
   */
  static void register() {
    LOG.debug("sluice:// FileSystem class for this Hadoop: {}", FILE_SYSTEM_CLASS.getName());
    Configuration.addDefaultResource(DEFAULTS);
    if (FILE_SYSTEM_CLASS != SluiceFileSystem.class) {
      Configuration.addDefaultResource(DEFAULTS_336);
    }
  }

  /** SluiceFileSystem336 on Hadoop 3.3.6 and later, else SluiceFileSystem. */
  static Class<? extends SluiceFileSystem> fileSystemClass() {
    return FILE_SYSTEM_CLASS;
  }

  /**
   * Once per JVM, {@link #lackingWarning} as a warning: a plain SluiceFileSystem serves sluice://
   * on a Hadoop where {@link #fileSystemClass()} would offer more interfaces.
   */
  static void warnIfLacking(SluiceFileSystem fs, Configuration conf) {
    String warning = lackingWarning(fs, conf);
    if (warning != null && WARNED.compareAndSet(false, true)) {
      LOG.warn(warning);
    }
  }

  /**
   * What to tell a user whose fs is a plain SluiceFileSystem on a Hadoop where {@link
   * #fileSystemClass()} is richer (fs.sluice.impl names it, or conf was made without default
   * resources); null when there is nothing to say.
   */
  static String lackingWarning(SluiceFileSystem fs, Configuration conf) {
    if (fs.getClass() != SluiceFileSystem.class || FILE_SYSTEM_CLASS == SluiceFileSystem.class) {
      return null;
    }
    String impl = conf.get(SluiceConstants.FS_SLUICE_IMPL);
    return "sluice:// is served by " + SluiceFileSystem.class.getName() + " ("
        + SluiceConstants.FS_SLUICE_IMPL + " = " + (impl == null ? "unset" : impl)
        + "), which lacks interfaces of this Hadoop that " + FILE_SYSTEM_CLASS.getName()
        + " implements (SafeMode, which HBase and others test for). Set "
        + SluiceConstants.FS_SLUICE_IMPL + " = " + FILE_SYSTEM_CLASS.getName() + ", or leave "
        + SluiceConstants.FS_SLUICE_IMPL + " unset so the jar picks the class that fits the"
        + " running Hadoop.";
  }

  private static Class<? extends SluiceFileSystem> chooseClass() {
    try {
      return Class.forName(SluiceConstants.FS_SLUICE_IMPL_336, false,
          SluiceFileSystem.class.getClassLoader()).asSubclass(SluiceFileSystem.class);
    } catch (ClassNotFoundException | LinkageError e) {
      return SluiceFileSystem.class; // before Hadoop 3.3.6: NoClassDefFoundError SafeMode
    }
  }

  /**
   * Whether the class loads (with its superclasses and interfaces) through the loader of
   * neighbour, without initialising it.
   */
  private static boolean present(String className, Class<?> neighbour) {
    try {
      Class.forName(className, false, neighbour.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static Set<String> setOf(String... values) {
    return Collections.unmodifiableSet(new HashSet<>(Arrays.asList(values)));
  }
}
