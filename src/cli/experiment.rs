//! Running one experiment config on one model: what `amp train`, `amp sweep` and `amp demo`
//! share. A job is a config with its overrides applied, a model, the data and the run's
//! files; it resumes from the run's checkpoint when asked to and one exists.

use amp_core::config::ExperimentConfig;
use amp_core::train::{
    BatchShape, Checkpoint, CheckpointError, Classifier, Outcome, Provenance, StopFlag, Trainer,
};
use amp_core::Amplifiable;
use anyhow::Result;

use super::args::ModelName;
use super::data::Data;
use super::device::DeviceSpec;
use super::models::{with_model, TrainDevice, WithModel};
use super::progress::Bars;
use super::run_files::RunFiles;

/// Everything a run needs besides the model.
pub struct Job<'a> {
    pub config: &'a ExperimentConfig,
    pub data: &'a Data,
    pub files: &'a RunFiles,
    /// `--limit` and `--test-limit`, for the record and the run's identity.
    pub limits: (Option<usize>, Option<usize>),
    /// Continue from `files.checkpoint` when it exists.
    pub resume: bool,
    pub stop: StopFlag,
    /// Where to train (checked usable before any data was loaded).
    pub device: DeviceSpec,
    /// Progress prefix (the run's name, with "[i/N]" in a sweep).
    pub label: String,
    pub quiet: bool,
}

impl Job<'_> {
    /// Builds `model` (initialized from the config's seed) and trains it.
    pub fn run(self, model: ModelName) -> Result<Outcome> {
        super::models::check_input(model, self.data.train.shape)?;
        let seed = self.config.train.seed;
        let provenance = Provenance {
            model: super::run_files::model_id(model),
            limit: self.limits.0,
            test_limit: self.limits.1,
            git_commit: option_env!("AMP_GIT_COMMIT").map(str::to_string),
            device: self.device.to_string(),
            data: Some(self.data.provenance.clone()),
            ..Provenance::default()
        };
        let classes = self.data.train.classes.len();
        match self.device {
            DeviceSpec::Cpu => {
                let dev = dfdx::tensor::Cpu::seed_from_u64(seed);
                with_model(model, classes, &dev, (self, provenance))?
            }
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda(ordinal) => {
                let dev = super::device::open_cuda(self.device, ordinal, seed)?;
                with_model(model, classes, &dev, (self, provenance))?
            }
            #[cfg(not(feature = "cuda"))]
            DeviceSpec::Cuda(_) => Err(anyhow::anyhow!(super::device::not_built_message(
                self.device
            ))),
        }
    }
}

impl WithModel for (Job<'_>, Provenance) {
    type Output = Result<Outcome>;

    fn run<M, S, D, const C: usize>(self, mut model: M, dev: &D) -> Result<Outcome>
    where
        M: Classifier<S, D, C> + Amplifiable + Clone,
        S: BatchShape,
        D: TrainDevice,
    {
        let (job, mut provenance) = self;
        let cfg = job.config;
        let mut plan = cfg.plan(&M::layer_names())?;
        plan.settings.augment = job.data.augment;
        provenance.classes = C;
        let mut bars = Bars::new(&job.label, cfg.train.epochs, job.quiet);
        let mut trainer = Trainer::new(&plan.name, &plan.settings, plan.policy.as_mut())
            .observer(&mut bars)
            .checkpoint(&job.files.checkpoint)
            .stop_flag(job.stop.clone())
            .provenance(provenance)
            .config(plan.config.clone());
        if job.resume && job.files.checkpoint.exists() {
            let ck = Checkpoint::read(&job.files.checkpoint).map_err(|e| match e {
                CheckpointError::Corrupt { .. } => {
                    anyhow::anyhow!("{e}; delete it to start the run over")
                }
                e => e.into(),
            })?;
            if !job.quiet {
                eprintln!(
                    "{}: resuming from {} (epoch {}, step {})",
                    job.label,
                    job.files.checkpoint.display(),
                    ck.state.next.epoch + 1,
                    ck.state.next.step
                );
            }
            trainer = trainer.resume(ck);
        }
        Ok(trainer.run::<M, S, D, C>(&mut model, dev, &job.data.train, &job.data.test)?)
    }
}
